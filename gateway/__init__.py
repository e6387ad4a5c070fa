"""The station gateway (issue 5): ecosystem adapters, spool, uplink. Not built yet."""
