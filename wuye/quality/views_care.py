"""Placeholder: the helper building this feature replaces it."""


def ranked(request):
    raise NotImplementedError
