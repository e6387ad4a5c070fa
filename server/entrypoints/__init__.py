"""Entry points: HTTP routes and CLI commands turn requests into application calls and back."""
