"""Money as the console shows it: ¥ with thousands separators and two decimals."""

from decimal import Decimal, InvalidOperation

from django import template

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
    sign = "−" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"
