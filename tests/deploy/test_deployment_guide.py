"""docs/deployment.md tells an operator everything the compose file expects of them."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "deployment.md"


def test_deployment_guide_names_every_required_variable() -> None:
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    yaml.safe_load(compose)  # the file the guide describes parses
    required = set(re.findall(r"(?<!\$)\$\{(\w+):\?", compose))
    assert {"WAAKVLAM_SIGNING_SECRET", "WAAKVLAM_PAYLOAD_KEYS", "POSTGRES_PASSWORD"} <= required
    guide = GUIDE.read_text(encoding="utf-8")
    assert not {name for name in required if name not in guide}


def test_deployment_guide_covers_secrets_start_staging_upgrades_backups_and_scaling() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    for needed in (
        "base64.b64encode(secrets.token_bytes(32))",
        "docker compose up -d",
        "--profile staging",
        "migrations",
        "pg_dump",
        "--scale worker=",
    ):
        assert needed in guide, needed


def test_deployment_guide_says_the_stack_has_not_been_run_with_docker() -> None:
    assert re.search(r"has not been run with Docker", GUIDE.read_text(encoding="utf-8"))
