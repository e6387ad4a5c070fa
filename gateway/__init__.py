"""The station gateway: ecosystem adapters (Tasmota, Zigbee2MQTT, ESPHome, native), the speaker
of record for translated devices, a disk spool, and the uplink to the central broker."""
