"""Access-matrix rows for activities (see the loader at the end of test_access_matrix.py)."""


def rows(m):
    return {}, {}
