"""The ``waakvlam`` command line. Each subcommand lives in ``waakvlam/commands/<name>.py`` with
``register(subparsers)`` adding its parser and setting ``handler`` to a function
``(args, settings) -> int``; add a module to ``COMMANDS`` to add a command."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from config.settings import SettingsError, load_settings

COMMANDS = (
    "dev",
    "worker",
    "web",
    "timeline",
    "enroll",
    "imports",
    "stalled",
    "purge",
    "export",
    "erase",
    "simulate",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="waakvlam",
        description="Waakvlam keeps every vulnerable school-leaver in view of the network.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"waakvlam.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("waakvlam").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    if getattr(args, "needs_settings", True):
        try:
            settings = load_settings()
        except SettingsError as error:
            print("waakvlam: the settings are not valid:", file=sys.stderr)
            for problem in error.problems:
                print(f"  {problem}", file=sys.stderr)
            return 2
    else:
        settings = None
    code: int = args.handler(args, settings)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
