"""The server's `yizhan` subcommands (users, stations import)."""
