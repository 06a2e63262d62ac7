"""API (tag `quality`): placeholder router the helper building this feature fills."""

from ninja import Router

router = Router(tags=["quality"])
