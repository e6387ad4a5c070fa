"""Simulated stations: realistic days of four devices each, fault injection, a ground-truth ledger."""
