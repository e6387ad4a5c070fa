"""Simulated stations: realistic days of four devices each, fault injection, a ground-truth ledger."""

# Installed as a part of the `yizhan` package (pyproject's package-dir): the generic top-level
# name stays free for other packages, and a stray `import device_sim` from the checkout fails here
# instead of loading a second copy of every module beside `yizhan.device_sim`.
if __name__ != "yizhan.device_sim":
    raise ImportError(f"import yizhan.device_sim, not {__name__}")
