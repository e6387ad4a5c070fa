"""The station gateway: ecosystem adapters (Tasmota, Zigbee2MQTT, ESPHome, native), the speaker
of record for translated devices, a disk spool, and the uplink to the central broker."""

# Installed as a part of the `yizhan` package (pyproject's package-dir): the generic top-level
# name stays free for other packages, and a stray `import gateway` from the checkout fails here
# instead of loading a second copy of every module beside `yizhan.gateway`.
if __name__ != "yizhan.gateway":
    raise ImportError(f"import yizhan.gateway, not {__name__}")
