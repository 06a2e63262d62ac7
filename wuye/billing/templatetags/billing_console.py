"""Money as the console shows it: ¥ with thousands separators and two decimals."""

from decimal import Decimal, InvalidOperation

from django import template

from wuye.billing import money

register = template.Library()


@register.filter
def yuan(value) -> str:
    """``Decimal("1234.5")`` → ``¥1,234.50``; empty → ``—``."""
    if value in (None, ""):
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return money.yuan(amount)


@register.filter
def price(value) -> str:
    """A unit price to its stored four decimals (a subquery may hand back a float-like
    value on SQLite): ``2.35`` → ``¥2.3500``."""
    if value in (None, ""):
        return "—"
    return f"¥{Decimal(str(value)).quantize(Decimal('0.0001'))}"
