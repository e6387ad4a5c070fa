"""Benchmarks, each printed beside a reference measured in the same run (a bare client, the database)."""

# Installed as a part of the `yizhan` package (pyproject's package-dir): the generic top-level
# name stays free for other packages, and a stray `import bench` from the checkout fails here
# instead of loading a second copy of every module beside `yizhan.bench`.
if __name__ != "yizhan.bench":
    raise ImportError(f"import yizhan.bench, not {__name__}")
