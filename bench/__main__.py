"""``python -m bench [NAME ...] [--flags]``: run the benchmarks (all by default), print their
figures and write them to docs/benchmarks.md with the command that produced them."""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from bench.common import write_section

ORDER = [
    "enrollment",
    "enrollment_parts",
    "simulation",
    "scale",
    "notifications",
    "escalation",
    "dashboard",
    "faults",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default: all): {', '.join(ORDER)}")  # fmt: skip
    parser.add_argument("--no-write", action="store_true", help="print only")
    for name in ORDER:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError:
            continue
        module.add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    names = args.names or ORDER
    unknown = [n for n in names if n not in ORDER]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(ORDER)}")
    for name in names:
        started = time.perf_counter()
        print(f"== {name} ==", flush=True)
        section = importlib.import_module(f"bench.{name}").main(args)
        section.print()
        print(f"({name}: {time.perf_counter() - started:.0f} s)", flush=True)
        if not args.no_write:
            write_section(section, ORDER)
    return 0


if __name__ == "__main__":
    sys.exit(main())
