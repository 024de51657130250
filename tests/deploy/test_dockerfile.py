"""The image both app services run: built from the repository with pip, unprivileged, no secrets."""

from __future__ import annotations

import json
import re
from pathlib import Path

from config.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments left out."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = (line.strip() for line in text.splitlines())
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def arguments(instruction: str) -> list[str]:
    return [args for name, args in dockerfile() if name == instruction]


def test_dockerfile_builds_on_a_pinned_python_311_slim_image() -> None:
    bases = [args.split()[0] for args in arguments("FROM")]
    assert bases and all(re.fullmatch(r"python:3\.11-slim[\w.-]*", base) for base in bases)


def test_dockerfile_runs_as_a_non_root_user() -> None:
    users = [args.split(":")[0] for args in arguments("USER")]
    assert users, "the Dockerfile has no USER"
    assert users[-1] not in ("root", "0")


def test_dockerfile_installs_the_project_and_exposes_port_8000() -> None:
    assert any(re.search(r"\bpip install (--?\S+ )*\.(\s|$)", run) for run in arguments("RUN"))
    assert ["8000"] in [args.split() for args in arguments("EXPOSE")]
    assert json.loads(arguments("CMD")[-1]) == ["waakvlam", "web"]


def test_dockerfile_bakes_in_no_secret() -> None:
    for args in arguments("ENV") + arguments("ARG"):
        assert not re.search(r"SECRET|PASSWORD|PWD|KEYS|TOKEN", args), args


def test_dockerfile_settings_are_real_settings_fields() -> None:
    names = set(re.findall(rf"\b{ENV_PREFIX}\w+", " ".join(arguments("ENV"))))
    fields = {f"{ENV_PREFIX}{field.upper()}" for field in Settings.model_fields}
    assert names and names <= fields, f"not settings: {sorted(names - fields)}"


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".env", ".venv", "var", ".git", "__pycache__"} <= ignored
