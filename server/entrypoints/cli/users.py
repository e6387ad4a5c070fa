"""`yizhan users …`: API users in YZ_DATA_DIR. A new or rotated token is the last line printed."""

import argparse
import sys

from yizhan.server.adapters.sqlite.user_store import UserError, UserStore
from yizhan.server.config import Settings
from yizhan.server.domain.access import ROLES, parse_districts


def run_users(args: argparse.Namespace) -> int:
    settings = Settings()
    store = UserStore(settings.data_dir / "users.sqlite")
    try:
        if args.users_command == "add":
            token = store.add(args.name, args.role, parse_districts(args.districts))
            scope = f" for districts {args.districts}" if args.districts else ""
            print(f"users: added {args.name} ({args.role}{scope}). The token is shown this once:")
            print(token)
        elif args.users_command == "rotate":
            token = store.rotate(args.name)
            print(f"users: new token for {args.name}; the old one no longer works:")
            print(token)
        elif args.users_command == "remove":
            store.remove(args.name)
            print(f"users: removed {args.name}")
        else:
            users = store.users()
            for u in users:
                print(f"{u.name}\t{u.role}\t{','.join(sorted(u.districts))}")
            if not users:
                print(f"users: none in {settings.data_dir} — the API is open (YZ_AUTH={settings.auth})")
    except UserError as exc:
        print(f"users: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="users_command", required=True)
    add = sub.add_parser("add", help="create a user; prints its bearer token as the last line")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--districts", default=None, help="comma-separated districts (crew users)")
    sub.add_parser("rotate", help="issue a new token; the old one stops working").add_argument("name")
    sub.add_parser("remove", help="delete a user and its token").add_argument("name")
    sub.add_parser("list", help="users, roles and districts (never tokens)")
