"""Placeholder: the helper building this feature replaces it."""


def monthly(request):
    raise NotImplementedError
