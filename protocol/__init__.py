"""The station wire protocol (docs/protocol.md) in code: topics, payloads, fault catalog.

Imported by the simulator, the gateway and the server; imports none of them.
"""

# Installed as a part of the `yizhan` package (pyproject's package-dir): the generic top-level
# name stays free for other packages, and a stray `import protocol` from the checkout fails here
# instead of loading a second copy of every module beside `yizhan.protocol`.
if __name__ != "yizhan.protocol":
    raise ImportError(f"import yizhan.protocol, not {__name__}")
