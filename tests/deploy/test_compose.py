"""The production stack: docker-compose.yml and the PostgreSQL init script it mounts.

Docker is not run here; these tests read the files and check what would otherwise only fail on
the production host: a typo in a WAAKVLAM_* name, an unpinned image, a secret with a default, a
port open to the world, a dependency that starts before the thing it needs is healthy.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from config.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"postgres", "temporal", "temporal-ui", "mailpit", "worker", "web"}
SECRETS = {
    "WAAKVLAM_SIGNING_SECRET",
    "WAAKVLAM_PAYLOAD_KEYS",
    "POSTGRES_PASSWORD",
    "TEMPORAL_DB_PASSWORD",
    "WAAKVLAM_CODEC_TOKEN",
}
# What an operator would put in .env; used to interpolate the file as `docker compose` would.
SAMPLE_ENV = {
    "POSTGRES_PASSWORD": "pg-password-url-safe-0123456789",
    "TEMPORAL_DB_PASSWORD": "temporal-password-0123456789",
    "WAAKVLAM_SIGNING_SECRET": "s" * 48,
    "WAAKVLAM_PAYLOAD_KEYS": "k1:" + base64.b64encode(bytes(range(32))).decode(),
    "WAAKVLAM_PUBLIC_BASE_URL": "https://waakvlam.example.nl",
    "WAAKVLAM_CODEC_TOKEN": "c" * 40,
}
_REFERENCE = re.compile(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


class MissingVariable(Exception):
    pass


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's variable substitution: ${X}, ${X:-default}, ${X-default}, ${X:?error}, $$."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        current = env.get(name)
        unset = not current if op and op.startswith(":") else current is None
        if op in (":?", "?") and unset:
            raise MissingVariable(name)
        if op in (":-", "-") and unset:
            return arg
        return current or ""

    return _REFERENCE.sub(substitute, value)


def references(value: str) -> Iterator[tuple[str, str | None]]:
    """(name, operator) of every host-side ${...} reference; `$${X}` is the container's own."""
    for match in _REFERENCE.finditer(value):
        if match.group(0) != "$$":
            yield match.group("name"), match.group("op")


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def env_of(service: dict[str, Any], env: Mapping[str, str] = SAMPLE_ENV) -> dict[str, str]:
    return {k: interpolate(str(v), env) for k, v in service.get("environment", {}).items()}


def test_compose_defines_the_production_services(services: dict[str, Any]) -> None:
    assert set(services) == SERVICES
    # The SMTP catcher runs on staging only; everything else is in the default `up`.
    assert {name for name, s in services.items() if "profiles" in s} == {"mailpit"}
    assert services["mailpit"]["profiles"] == ["staging"]


def test_every_image_is_pinned_to_a_tag(services: dict[str, Any]) -> None:
    pulled = {name: s["image"] for name, s in services.items() if "build" not in s}
    assert set(pulled) == SERVICES - {"web", "worker"}
    for name, image in pulled.items():
        match = re.fullmatch(r"[\w./-]+:(?P<tag>\w[\w.-]*)", image)
        assert match, f"{name}: {image!r} has no literal tag"
        assert match["tag"] != "latest", f"{name}: {image!r} is not pinned"


def test_every_long_running_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    for name, service in services.items():
        check = service.get("healthcheck", {})
        assert check.get("test") and check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert not check.get("disable"), name
        assert service.get("restart") == "unless-stopped", name


def test_worker_and_web_build_from_the_repository_dockerfile(services: dict[str, Any]) -> None:
    for name, command in (("web", ["waakvlam", "web"]), ("worker", ["waakvlam", "worker"])):
        build = services[name]["build"]
        assert (ROOT / build["context"] / build.get("dockerfile", "Dockerfile")).is_file()
        assert Path(build["context"]) == Path(".")
        assert services[name]["command"] == command


def test_dependencies_wait_until_they_are_healthy(services: dict[str, Any]) -> None:
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: list-form depends_on waits for nothing"
        for dependency, rule in depends_on.items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert rule == {"condition": "service_healthy"}, f"{name} -> {dependency}"
            assert services[dependency].get("healthcheck"), dependency
            # A dependency behind a profile would stop the default `up` from starting at all.
            assert set(services[dependency].get("profiles", [])) <= set(
                service.get("profiles", [])
            ), f"{name} -> {dependency}"
    assert set(services["worker"]["depends_on"]) == {"postgres", "temporal", "web"}
    assert set(services["web"]["depends_on"]) == {"postgres", "temporal"}
    assert set(services["temporal"]["depends_on"]) == {"postgres"}


def test_dependencies_have_no_cycles(services: dict[str, Any]) -> None:
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, " -> ".join((*path, name))
        if name not in done:
            for dependency in services[name].get("depends_on", {}):
                visit(dependency, (*path, name))
            done.add(name)

    for name in services:
        visit(name, ())


def test_secrets_are_required_variables_without_defaults(compose: dict[str, Any]) -> None:
    seen: dict[str, set[str | None]] = {}
    for value in strings(compose):
        for name, op in references(value):
            seen.setdefault(name, set()).add(op)
    for secret in SECRETS | {"WAAKVLAM_PUBLIC_BASE_URL"}:
        assert seen.get(secret) == {":?"}, f"{secret} is referenced as {seen.get(secret)}"
    for secret in SECRETS:
        with pytest.raises(MissingVariable):
            for value in strings(compose):
                interpolate(value, {k: v for k, v in SAMPLE_ENV.items() if k != secret})


def test_no_secret_has_a_literal_value(services: dict[str, Any]) -> None:
    secret_name = re.compile(r"PASSWORD|PWD|SECRET|TOKEN|KEYS|_SID$")
    for name, service in services.items():
        for key, value in service.get("environment", {}).items():
            if secret_name.search(key):
                # Required (`:?`), or optional with an empty default (`:-`): never a literal.
                assert re.fullmatch(r"\$\{\w+(:\?[^}]*|:-)\}", str(value)), f"{name}: {key}"
    raw_url = services["web"]["environment"]["WAAKVLAM_DATABASE_URL"]
    assert urlsplit(interpolate(raw_url, SAMPLE_ENV)).password == SAMPLE_ENV["POSTGRES_PASSWORD"]


def test_published_ports_are_bound_to_loopback(services: dict[str, Any]) -> None:
    published = {}
    for name, service in services.items():
        for port in service.get("ports", []):
            host_ip = port.get("host_ip") if isinstance(port, dict) else str(port).split(":")[0]
            assert host_ip == "127.0.0.1", f"{name} publishes {port} beyond this host"
            published[name] = port
    assert "postgres" not in published
    assert published["web"] == "127.0.0.1:8000:8000"
    assert published["temporal-ui"] == "127.0.0.1:8080:8080"


def test_temporal_ui_decodes_payloads_through_the_web_codec_endpoint(
    services: dict[str, Any],
) -> None:
    ui = env_of(services["temporal-ui"])
    public_url = env_of(services["web"])["WAAKVLAM_PUBLIC_BASE_URL"]
    assert public_url == SAMPLE_ENV["WAAKVLAM_PUBLIC_BASE_URL"]
    assert ui["TEMPORAL_CODEC_ENDPOINT"] == f"{public_url}/codec"
    assert ui["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_waakvlam_variables_are_settings_fields(compose: dict[str, Any]) -> None:
    names = {n for value in strings(compose) for n in re.findall(rf"\b{ENV_PREFIX}\w+", value)}
    names -= {"WAAKVLAM_IMAGE_TAG"}  # names the built image, not a setting
    fields = {f"{ENV_PREFIX}{field.upper()}" for field in Settings.model_fields}
    assert len(names) > 20
    assert names <= fields, f"not settings: {sorted(names - fields)}"


def test_worker_and_web_share_one_environment_that_settings_accept(
    compose: dict[str, Any], services: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = compose["x-waakvlam-env"]
    assert services["worker"]["environment"] == shared
    assert services["web"]["environment"].items() >= shared.items()
    for key in [k for k in os.environ if k.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(key)
    for key, value in env_of(services["web"]).items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.environment == "production"
    assert (settings.web_host, settings.web_port) == ("0.0.0.0", 8000)


def test_addresses_point_at_services_that_exist(services: dict[str, Any]) -> None:
    app = env_of(services["worker"])
    database = urlsplit(app["WAAKVLAM_DATABASE_URL"])
    assert (database.hostname, database.port, database.username) == ("postgres", 5432, "waakvlam")
    assert database.path == "/waakvlam"
    assert app["WAAKVLAM_TEMPORAL_ADDRESS"] == "temporal:7233"
    assert (app["WAAKVLAM_SMTP_HOST"], app["WAAKVLAM_SMTP_PORT"]) == ("mailpit", "1025")
    temporal = env_of(services["temporal"])
    assert temporal["POSTGRES_SEEDS"] == "postgres" and temporal["DB_PORT"] == "5432"
    for host in (database.hostname, "temporal", app["WAAKVLAM_SMTP_HOST"]):
        assert host in services


def test_postgres_init_creates_the_roles_and_databases_compose_uses(
    services: dict[str, Any],
) -> None:
    postgres = services["postgres"]
    mounts = dict(reversed(v.split(":")[:2]) for v in postgres["volumes"])
    init_dir = ROOT / mounts["/docker-entrypoint-initdb.d"]
    scripts = sorted(init_dir.glob("*.sh"))
    assert scripts and all(os.access(s, os.X_OK) for s in scripts)
    sql = "\n".join(s.read_text(encoding="utf-8") for s in scripts)
    temporal = env_of(services["temporal"])
    database = urlsplit(env_of(services["web"])["WAAKVLAM_DATABASE_URL"])
    assert f"CREATE ROLE {database.username} LOGIN" in sql
    assert f"CREATE DATABASE {database.path.lstrip('/')} OWNER {database.username}" in sql
    assert f"CREATE ROLE {temporal['POSTGRES_USER']} LOGIN" in sql
    for name in (temporal["DBNAME"], temporal["VISIBILITY_DBNAME"]):
        assert f"CREATE DATABASE {name} OWNER {temporal['POSTGRES_USER']}" in sql
    assert temporal["SKIP_DB_CREATE"] == "true"
    # The passwords the script sets are the ones the clients use.
    for variable in ("POSTGRES_PASSWORD", "TEMPORAL_DB_PASSWORD"):
        assert f"${{{variable}}}" in sql and variable in postgres["environment"]
    assert "pg_isready" in postgres["healthcheck"]["test"]


def test_the_ui_sends_credentials_to_the_codec_and_the_app_allows_its_origin(
    compose: dict[str, Any],
) -> None:
    ui = compose["services"]["temporal-ui"]["environment"]
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
    web = env_of(compose["services"]["web"])
    assert web["WAAKVLAM_TEMPORAL_UI_ORIGIN"] == "http://localhost:8080"  # the UI's published port
