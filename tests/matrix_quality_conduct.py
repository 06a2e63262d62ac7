"""Access-matrix rows for quality: conduct (loader: end of test_access_matrix.py)."""


def rows(m):
    return {}, {}
