"""The station wire protocol (PROTOCOL.md) in code: topics, payloads, fault catalog.

Imported by the simulator, the gateway and the server; imports none of them.
"""
