"""Placeholder: the helper building this feature replaces it."""


def courses(request):
    raise NotImplementedError
