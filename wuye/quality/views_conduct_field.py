"""Placeholder: the helper building this feature replaces it."""


def new_spot_check(request):
    raise NotImplementedError
