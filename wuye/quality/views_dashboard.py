"""Placeholder: the helper building this feature replaces it."""


def dashboard(request):
    raise NotImplementedError
