"""The yizhan monitoring server."""

# Installed as a part of the `yizhan` package (pyproject's package-dir): the generic top-level
# name stays free for other packages, and a stray `import server` from the checkout fails here
# instead of loading a second copy of every module beside `yizhan.server`.
if __name__ != "yizhan.server":
    raise ImportError(f"import yizhan.server, not {__name__}")
