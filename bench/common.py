"""What every benchmark shares: settings on loopback, timing helpers, and the results file.

Each benchmark returns a :class:`Section` (a markdown table and notes); ``write_section`` puts it
in docs/benchmarks.md between ``<!-- bench:NAME -->`` markers, so one benchmark can be re-run
without losing the figures of the others.
"""

from __future__ import annotations

import base64
import os
import platform
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "benchmarks.md"
BENCH_KEYS = {"k1": b"k" * 32}


def bench_settings(data_dir: Path, **overrides: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",  # type: ignore[arg-type]
        data_dir=data_dir,
        signing_secret="bench-signing-secret-that-is-long-enough-1234",  # type: ignore[arg-type]
        payload_keys="k1:" + base64.b64encode(BENCH_KEYS["k1"]).decode(),  # type: ignore[arg-type]
        **overrides,
    )


def machine() -> str:
    cpus = os.cpu_count()
    memory = ""
    try:
        with open("/proc/meminfo") as meminfo:
            kb = int(meminfo.readline().split()[1])
            memory = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{platform.machine()}, {cpus} cores{memory}, Python {sys.version.split()[0]}"


def rotated(kinds: list[str], turn: int) -> list[str]:
    """The kinds in the order of turn ``turn``: each turn starts one further along, so no kind
    always follows the same other one (the machine's slow spells and a fuller server are
    shared)."""
    shift = turn % len(kinds)
    return kinds[shift:] + kinds[:shift]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def p50(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started


@dataclass
class Section:
    name: str
    title: str
    command: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines = [
            f"## {self.title}",
            "",
            f"Command: `{self.command}`  ",
            f"Run: {when} on {machine()}",
            "",
            "| " + " | ".join(self.header) + " |",
            "|" + "|".join("---" for _ in self.header) + "|",
            *("| " + " | ".join(row) + " |" for row in self.rows),
        ]
        if self.notes:
            lines += ["", *self.notes]
        return "\n".join(lines)

    def print(self) -> None:
        print()
        print(self.markdown())
        sys.stdout.flush()


HEADER = """# Benchmarks

Every figure here was measured by the committed code under `bench/`, on the machine named
with it, with its baseline measured in the same run (the machine is shared, so absolute
timings are noisy; the ratios are what to compare). `make bench` runs them all at their
default sizes; `python -m bench NAME [--flags]` runs one. Re-running a benchmark replaces
its section only.
"""


def write_section(section: Section, order: list[str]) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    block = f"<!-- bench:{section.name} -->\n{section.markdown()}\n<!-- /bench:{section.name} -->"
    pattern = re.compile(
        rf"<!-- bench:{section.name} -->.*?<!-- /bench:{section.name} -->", re.DOTALL
    )
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    blocks = {
        m.group(1): m.group(0)
        for m in re.finditer(r"<!-- bench:(\w+) -->.*?<!-- /bench:\1 -->", text, re.DOTALL)
    }
    head = text.split("<!-- bench:", 1)[0].rstrip()
    ordered = [blocks[n] for n in order if n in blocks]
    ordered += [b for n, b in blocks.items() if n not in order]
    RESULTS.write_text(head + "\n\n" + "\n\n".join(ordered) + "\n")
