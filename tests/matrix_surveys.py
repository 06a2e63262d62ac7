"""Access-matrix rows for surveys (see the loader at the end of test_access_matrix.py)."""


def rows(m):
    return {}, {}
