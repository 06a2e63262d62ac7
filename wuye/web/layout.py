"""Which layout a page shared by every kind of user extends."""


def layout_for(actor) -> str:
    """Office roles get the console; field staff and residents the mobile layout."""
    return "console/base.html" if actor.home == "console" else "mobile/base.html"
