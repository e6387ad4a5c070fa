"""The yizhan monitoring server."""
