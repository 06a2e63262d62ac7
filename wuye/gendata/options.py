"""Sizes of a generated data set: presets and explicit options."""

import dataclasses
import datetime

# small: CI-sized, seconds; medium: a large single company; large: the design brief's
# scale (1,000,000 houses, 10,000,000 work orders).
PRESETS = {
    "small": {"companies": 2, "communities": 6, "houses": 3_000, "orders": 30_000},
    "medium": {"companies": 2, "communities": 30, "houses": 100_000, "orders": 1_000_000},
    "large": {"companies": 3, "communities": 300, "houses": 1_000_000, "orders": 10_000_000},
}
STEPS = ("registry", "residents", "staff", "orders", "bills", "inspections", "rollups")


@dataclasses.dataclass(frozen=True)
class Options:
    companies: int = 2
    communities: int = 6
    houses: int = 3_000
    orders: int = 30_000
    months: int = 12
    seed: int = 42
    until: datetime.date | None = None  # data up to the start of this local day; today
    replace: bool = False
    skip: tuple[str, ...] = ()

    def __post_init__(self):
        if self.companies < 1 or self.communities < self.companies:
            raise ValueError("need at least one community per company")
        if self.houses < self.communities * 4:
            raise ValueError("need at least four houses per community")
        if self.orders < 0 or not 1 <= self.months <= 36:
            raise ValueError("orders must be ≥ 0 and months between 1 and 36")
        if self.seed < 0 or self.seed > 2**40:
            raise ValueError("the seed must be between 0 and 2**40")
        unknown = set(self.skip) - set(STEPS)
        if unknown:
            raise ValueError(f"unknown steps to skip: {', '.join(sorted(unknown))}")

    @classmethod
    def build(cls, preset: str | None = None, **given) -> "Options":
        """A preset's sizes with the explicitly given values (not None) on top."""
        values = dict(PRESETS[preset or "small"])
        values.update({k: v for k, v in given.items() if v is not None})
        return cls(**values)

    def wants(self, step: str) -> bool:
        return step not in self.skip
