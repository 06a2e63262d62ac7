"""Content-Security-Policy (django-csp): the header on every kind of response, and the
templates keep to it (no inline script or style, no handlers, no htmx eval). The browser
check over the demo is ``scripts/csp_check.py``."""

import re
from pathlib import Path

import pytest
from api_helpers import get
from conftest import engine_independent
from django.test import Client
from django.urls import reverse

import wuye

# Headers and templates: the same on either database engine.
pytestmark = engine_independent

TEMPLATES = sorted(Path(wuye.__file__).parent.glob("**/templates/**/*.html"))


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


def assert_strict(response):
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["style-src-attr"] == ["'unsafe-inline'"]  # ECharts' markup only (settings)
    assert sorted(csp["img-src"]) == sorted(["'self'", "data:", "blob:"])
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert not any("unsafe-eval" in v for values in csp.values() for v in values)


@pytest.mark.parametrize(
    "who, url",
    [
        (None, "accounts:login"),
        ("dispatcher", "orders_console:board"),
        ("project_manager", "quality:dashboard"),
        ("resident_a", "orders_resident:my_orders"),
        ("technician", "orders_field:tasks"),
    ],
)
def test_pages_carry_the_policy(cast, who, url):
    response = cast.client(who).get(reverse(url))
    assert response.status_code == 200
    assert_strict(response)


def test_api_answers_carry_the_policy(cast):
    assert_strict(get(cast.client("resident_a"), "/me"))
    assert_strict(get(Client(), "/me"))  # 401 too
    assert_strict(Client().get("/api/docs"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p).split("wuye/", 1)[-1])
def test_templates_have_no_inline_script_or_style(template):
    text = template.read_text()
    markup = re.sub(r"\{%.*?%\}|\{\{.*?\}\}", "", text)  # the HTML without template tags
    inline_scripts = [
        tag
        for tag in re.findall(r"<script\b[^>]*>", text)
        if "src=" not in tag and 'type="application/json"' not in tag
    ]
    assert inline_scripts == []
    assert not re.search(r"\son[a-z]+\s*=", markup), "on…= handler"
    assert not re.search(r"\sstyle\s*=", markup), "style attribute (use a class or data-width)"
    assert "<style" not in text
    assert "hx-on" not in text
    # htmx trigger filters (change[…]) and js: values are evaluated: CSP forbids eval.
    assert not re.search(r'hx-trigger="[^"]*\[', text)
    assert not re.search(r"hx-(vals|vars)=[\"']\s*js:", markup)
