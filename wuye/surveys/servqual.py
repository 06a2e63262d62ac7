"""SERVQUAL (Parasuraman, Zeithaml & Berry 1988) adapted to property service.

The 22 items keep the original order and grouping: 有形 tangibles (1–4), 可靠
reliability (5–9), 响应 responsiveness (10–13), 保证 assurance (14–17), 移情 empathy
(18–22). A survey asks them either as perception only (SERVPERF) or as expectation and
perception of each item; then the gap (perception − expectation) says where service
falls short of what residents expect.

The dimension weights are the seed's five quality factors (专业性 32 %, 责任心 22 %,
仪表 19 %, 人情味 16 %, 软硬件 11 %). They are defaults, not truths: a company sets
``SURVEY_DIMENSION_WEIGHTS`` (a dict of dimension → weight; any positive numbers, they
are normalised) and the weighted index follows.
"""

import dataclasses
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from wuye.core.i18n import site_text
from wuye.surveys.models import Dimension

DEFAULT_WEIGHTS: dict[str, Decimal] = {
    Dimension.RELIABILITY: Decimal("0.32"),
    Dimension.RESPONSIVENESS: Decimal("0.22"),
    Dimension.ASSURANCE: Decimal("0.19"),
    Dimension.EMPATHY: Decimal("0.16"),
    Dimension.TANGIBLES: Decimal("0.11"),
}
# The order results are shown in: heaviest first, as the seed lists them.
DIMENSION_ORDER = tuple(DEFAULT_WEIGHTS)


@dataclasses.dataclass(frozen=True)
class Item:
    number: int
    dimension: str
    text: object  # translated through the catalogue like every other string

    def site_text(self) -> str:
        """The item in the site's language (stored on the survey's question)."""
        return site_text(self.text)


T, R, P, A, E = (
    Dimension.TANGIBLES,
    Dimension.RELIABILITY,
    Dimension.RESPONSIVENESS,
    Dimension.ASSURANCE,
    Dimension.EMPATHY,
)

ITEMS: tuple[Item, ...] = (
    Item(
        1,
        T,
        _(
            "The community's equipment (lifts, access control, lighting, fitness "
            "equipment) is in good order and up to date."
        ),
    ),
    Item(
        2,
        T,
        _("The common areas (lobbies, stairwells, gardens, roads) are clean and pleasant."),
    ),
    Item(
        3,
        T,
        _("Property staff are neatly dressed and wear their name badges."),
    ),
    Item(
        4,
        T,
        _("The service centre, notice boards and service guides are clear and easy to follow."),
    ),
    Item(
        5,
        R,
        _("When the property company promises to do something by a certain time, it does so."),
    ),
    Item(
        6,
        R,
        _("When a resident has a problem, the property company sincerely helps to solve it."),
    ),
    Item(
        7,
        R,
        _("Repairs and complaints are handled right the first time."),
    ),
    Item(
        8,
        R,
        _("Cleaning, patrols and maintenance take place at the times promised."),
    ),
    Item(
        9,
        R,
        _("Fees, bills and service records are accurate."),
    ),
    Item(
        10,
        P,
        _(
            "Residents are told in advance when services will take place (water or power "
            "cuts, repair visits)."
        ),
    ),
    Item(
        11,
        P,
        _("Staff serve residents promptly."),
    ),
    Item(
        12,
        P,
        _("Staff are always willing to help residents."),
    ),
    Item(
        13,
        P,
        _("Staff are never too busy to answer residents' calls and repair requests."),
    ),
    Item(
        14,
        A,
        _("The way staff behave makes residents trust them."),
    ),
    Item(
        15,
        A,
        _("Residents feel safe in the community (gate, patrols, fire safety)."),
    ),
    Item(
        16,
        A,
        _("Staff are consistently courteous and friendly to residents."),
    ),
    Item(
        17,
        A,
        _("Staff have the knowledge and skills to answer questions and fix problems."),
    ),
    Item(
        18,
        E,
        _("The property company pays attention to each household's situation."),
    ),
    Item(
        19,
        E,
        _("The service centre's opening hours suit residents."),
    ),
    Item(
        20,
        E,
        _(
            "Staff look after residents with special needs of their own accord (the "
            "elderly, people living alone, people with limited mobility)."
        ),
    ),
    Item(
        21,
        E,
        _("The property company has residents' best interests at heart."),
    ),
    Item(
        22,
        E,
        _("Staff understand residents' specific needs."),
    ),
)

TEMPLATE_TITLE = _("Property service satisfaction survey (SERVQUAL)")
TEMPLATE_INTRO = _(
    "Please rate each statement about our service: 1 means you strongly disagree, "
    "the highest score that you strongly agree."
)


def template_title() -> str:
    return site_text(TEMPLATE_TITLE)


def template_intro() -> str:
    return site_text(TEMPLATE_INTRO)


# --- weights --------------------------------------------------------------------------
# QualitySettings field of each dimension's weight (the company's own, in percent).
SETTINGS_FIELDS = {dimension: "weight_" + str(dimension) for dimension in DIMENSION_ORDER}


def weights(company=None) -> dict[str, Decimal]:
    """The dimension weights in force, normalised to sum to 1: the company's quality
    settings (``company``: a Company or its id) when it has stored them, else
    ``SURVEY_DIMENSION_WEIGHTS`` if set (a dict of dimension → non-negative number;
    dimensions left out weigh 0), else the defaults. A malformed setting is a
    configuration error, raised at once."""
    if company is not None:
        from wuye.quality.models import QualitySettings

        company_id = getattr(company, "pk", company)
        stored = (
            QualitySettings.objects.filter(company_id=company_id)
            .values(*SETTINGS_FIELDS.values())
            .first()
        )
        total = sum(stored.values()) if stored else 0
        if total > 0:
            return {d: stored[field] / total for d, field in SETTINGS_FIELDS.items()}
    configured = getattr(settings, "SURVEY_DIMENSION_WEIGHTS", None)
    if not configured:
        return dict(DEFAULT_WEIGHTS)
    if not isinstance(configured, dict):
        raise ImproperlyConfigured("SURVEY_DIMENSION_WEIGHTS must be a dict.")
    unknown = set(configured) - set(Dimension.values)
    if unknown:
        raise ImproperlyConfigured(f"SURVEY_DIMENSION_WEIGHTS: unknown {sorted(unknown)}.")
    raw = {}
    for dimension in DIMENSION_ORDER:
        value = configured.get(dimension, 0)
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise ImproperlyConfigured(f"SURVEY_DIMENSION_WEIGHTS[{dimension!r}] is not a number.")
        try:
            number = Decimal(str(value))
        except ArithmeticError as exc:
            raise ImproperlyConfigured(
                f"SURVEY_DIMENSION_WEIGHTS[{dimension!r}] is not a number."
            ) from exc
        if not number.is_finite() or number < 0:
            raise ImproperlyConfigured(f"SURVEY_DIMENSION_WEIGHTS[{dimension!r}] must be ≥ 0.")
        raw[dimension] = number
    total = sum(raw.values())
    if total <= 0:
        raise ImproperlyConfigured("SURVEY_DIMENSION_WEIGHTS must have a positive weight.")
    return {dimension: value / total for dimension, value in raw.items()}


# --- scoring --------------------------------------------------------------------------
@dataclasses.dataclass
class DimensionScore:
    dimension: str
    label: object
    weight: Decimal
    items: int  # questions of this dimension in the survey
    answers: int  # perception scores given
    perception: Decimal | None  # mean perception score
    expectation: Decimal | None  # mean expectation score (gap surveys)

    @property
    def gap(self) -> Decimal | None:
        if self.perception is None or self.expectation is None:
            return None
        return self.perception - self.expectation

    @property
    def weight_percent(self) -> Decimal:
        return (self.weight * 100).quantize(Decimal("0.1"))


@dataclasses.dataclass
class Scores:
    dimensions: list[DimensionScore]
    scale_max: int
    index: Decimal | None  # weighted mean perception, on the survey's scale
    gap_index: Decimal | None  # weighted mean gap (gap surveys)

    @property
    def index_percent(self) -> Decimal | None:
        """The weighted index as 0–100: 1 on the scale is 0, the top score 100."""
        if self.index is None or self.scale_max <= 1:
            return None
        return ((self.index - 1) / (self.scale_max - 1) * 100).quantize(Decimal("0.1"))


def _mean(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"))


def score(rows, *, scale_max: int = 7, weights_in_force=None) -> Scores:
    """Per-dimension results from ``rows``: dicts with ``dimension``, ``items``,
    ``answers``, ``perception`` (mean score) and ``expectation`` (mean expected score,
    or None). The weighted index is Σ weight × mean perception over the dimensions that
    have answers, divided by the weight of those dimensions (a survey that asks only
    some dimensions is not marked down for the others); the same for the gap."""
    used = weights_in_force or weights()
    found = {row["dimension"]: row for row in rows}
    dimensions = []
    for dimension in DIMENSION_ORDER:
        row = found.get(dimension)
        if row is None:
            continue
        dimensions.append(
            DimensionScore(
                dimension=dimension,
                label=Dimension(dimension).label,
                weight=used[dimension],
                items=row.get("items", 0),
                answers=row.get("answers", 0),
                perception=_mean(row.get("perception")),
                expectation=_mean(row.get("expectation")),
            )
        )
    return Scores(
        dimensions=dimensions,
        scale_max=scale_max,
        index=_weighted(dimensions, "perception"),
        gap_index=_weighted(dimensions, "gap"),
    )


def _weighted(dimensions, attribute) -> Decimal | None:
    scored = [(d.weight, getattr(d, attribute)) for d in dimensions]
    scored = [(w, v) for w, v in scored if v is not None and w > 0]
    total = sum((w for w, _v in scored), Decimal(0))
    if not scored or total <= 0:
        return None
    return (sum(w * v for w, v in scored) / total).quantize(Decimal("0.01"))
