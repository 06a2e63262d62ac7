"""Content-Security-Policy check in a real browser: signs in as each demo role, crawls
that role's pages (same-origin links, breadth first), hovers the charts, and collects
every CSP violation the browser reports ("Refused to …" console messages and
``securitypolicyviolation`` events). Exits 1 when there is any.

    uv run wuye demo        # in another terminal (http://127.0.0.1:8000)
    uv run --with playwright python scripts/csp_check.py [--base URL] [--per-role 40]
        [--shots DIR]

Needs Chromium (Debian ``chromium``) and, for readable screenshots, ``fonts-noto-cjk``.
"""

import argparse
import collections
import re
import sys
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

from playwright.sync_api import sync_playwright

PASSWORD = "wuye-demo-2026"
ROLES = {
    "admin": "/",
    "manager": "/console/quality/",
    "dispatcher": "/console/orders/",
    "tech": "/m/orders/",
    "13800138000": "/h5/orders/",
}
# Not pages, or pages that change things when merely opened.
SKIP = re.compile(
    r"/(logout|i18n|api/|admin/.*(delete|history)|media/|photos?/)|\.(xlsx|pdf|csv|zip|png|jpg)$"
    r"|/(export|download|print|label|labels|statement|receipt|workbook)\b"
)
# Chart pages: hover the ECharts canvases to open their tooltips (HTML built by ECharts).
CHART_SELECTOR = "canvas"
# A path, or "link:<regex>": the first link on the page before whose path matches.
SCREENSHOTS = {
    "admin": ["/"],
    "dispatcher": ["/console/orders/", r"link:^/console/orders/\d+/$"],
    "manager": ["/console/quality/", "/console/quality/complaints/"],
    "13800138000": ["/h5/orders/", r"link:^/h5/orders/\d+/$"],
}

SNIFFER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' at ' +
                    (e.sourceFile || '') + ':' + (e.lineNumber || 0) + ' ' + (e.sample || ''));
});
"""


def crawl(browser, base, user, start, per_role, shots):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.add_init_script(SNIFFER)
    page = context.new_page()
    found = []
    page.on(
        "console",
        lambda msg: (
            found.append((page.url, msg.text))
            if "Content Security Policy" in msg.text or msg.text.startswith("Refused to")
            else None
        ),
    )
    page.goto(urljoin(base, "/accounts/login/"))
    page.fill("#id_username", user)
    page.fill("#id_password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state("networkidle")
    host = urlparse(base).netloc
    queue = collections.deque([urljoin(base, start), page.url])
    seen = set()
    checked = []
    while queue and len(checked) < per_role:
        url = urldefrag(queue.popleft())[0]
        if url in seen:
            continue
        seen.add(url)
        path = urlparse(url).path
        if urlparse(url).netloc != host or SKIP.search(path):
            continue
        response = page.goto(url)
        page.wait_for_load_state("networkidle")
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        checked.append((url, response.status))
        for box in page.query_selector_all(CHART_SELECTOR)[:3]:
            try:
                box.hover(timeout=2000)
                page.wait_for_timeout(300)
            except Exception:  # a hidden canvas is fine
                pass
        for event in page.evaluate("window.__csp || []"):
            found.append((url, "securitypolicyviolation: " + event))
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            href = urldefrag(href)[0]
            if href not in seen:
                queue.append(href)
    if shots:
        for i, path in enumerate(SCREENSHOTS.get(user, [])):
            if path.startswith("link:"):
                pattern = re.compile(path.removeprefix("link:"))
                hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
                path = next((h for h in hrefs if pattern.search(urlparse(h).path)), None)
                if path is None:
                    continue
            page.goto(urljoin(base, path))
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(800)
            page.screenshot(path=str(Path(shots) / f"{user}-{i}.png"), full_page=False)
    context.close()
    return checked, found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000/")
    parser.add_argument("--per-role", type=int, default=40)
    parser.add_argument("--shots", default="", help="directory for a few screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--roles", default=",".join(ROLES))
    args = parser.parse_args()
    if args.shots:
        Path(args.shots).mkdir(parents=True, exist_ok=True)
    total_pages, violations = 0, []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=args.chromium,
            args=["--headless", "--no-sandbox", "--disable-gpu"],
        )
        for user in args.roles.split(","):
            checked, found = crawl(browser, args.base, user, ROLES[user], args.per_role, args.shots)
            bad = [url for url, status in checked if status >= 500]
            print(f"{user}: {len(checked)} pages, {len(found)} CSP violations, 5xx: {bad}")
            total_pages += len(checked)
            violations += [(user, url, text) for url, text in found]
        browser.close()
    seen = set()
    for user, url, text in violations:
        key = (urlparse(url).path, text[:160])
        if key not in seen:
            seen.add(key)
            print(f"  [{user}] {url}\n      {text[:300]}")
    print(f"pages checked: {total_pages}; CSP violations: {len(violations)}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
