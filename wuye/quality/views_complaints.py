"""Placeholder: the helper building this feature replaces it."""


def overview(request):
    raise NotImplementedError
