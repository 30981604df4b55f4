"""The deployment files agree with the code: compose.yaml, nginx.conf and the two settings examples."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from backend.settings import Settings, SettingsError, settings_load

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
NGINX = ROOT / "config" / "nginx.conf"
PRODUCTION_TOML = ROOT / "config" / "production.example.toml"
ENV_EXAMPLE = ROOT / "config" / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"

SECRETS = ("POSTGRES_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def _settings_keys() -> dict[str, list[str]]:
    """Section name -> key names, straight from the Settings structs."""
    return {
        section.name: [field.name for field in msgspec.structs.fields(section.type)]
        for section in msgspec.structs.fields(Settings)
    }


def _env_name(section: str, key: str) -> str:
    return f"LEARNLOOP_{section}_{key}".upper()


def _compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _services() -> dict[str, Any]:
    services = _compose()["services"]
    assert isinstance(services, dict)
    return services


def _interpolate(value: str) -> str:
    """Resolve compose interpolation the way compose would with every required variable set."""

    def replace(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        if operator and operator.endswith("?"):
            return f"test-{name.lower()}"
        if operator and operator.endswith("-"):
            return argument
        raise AssertionError(f"${{{name}}} has neither a default nor a required marker")

    return INTERPOLATION.sub(replace, value)


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {name: _interpolate(str(value)) for name, value in env.items()}


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    depends = service.get("depends_on", {})
    assert isinstance(depends, dict), "depends_on must use the long form with conditions"
    return {name: spec["condition"] for name, spec in depends.items()}


def _block(text: str, header: str) -> str:
    """The body of the first `<header> { ... }` block of an nginx config, nested blocks included."""
    match = re.search(rf"(?m)^\s*{header}\s*\{{", text)
    assert match, f"no block {header!r} in {NGINX.name}"
    return _block_from(text, match.end())


def _block_from(text: str, start: int) -> str:
    """The body of the block whose opening brace ends just before `start`."""
    depth = 1
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return text[start:index]
    raise AssertionError(f"block opened at {start} is not closed")


def _nginx() -> str:
    # Comments could name a directive without applying it.
    return re.sub(r"(?m)#.*$", "", NGINX.read_text(encoding="utf-8"))


def _env_example_lines() -> dict[str, str]:
    lines: dict[str, str] = {}
    for raw in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep, f"not NAME=value: {raw!r}"
        assert name not in lines, f"{name} is set twice in {ENV_EXAMPLE.name}"
        lines[name] = value
    return lines


# --- compose.yaml ---------------------------------------------------------------------------------


def test_compose_has_every_service() -> None:
    services = _services()
    for name in ("postgres", "redis", "minio", "minio-init", "migrate", "api", "worker", "nginx"):
        assert name in services, f"compose.yaml lacks service {name}"


def test_compose_api_runs_two_replicas_of_the_built_image() -> None:
    api = _services()["api"]
    assert api["deploy"]["replicas"] == 2
    assert api["build"] in (".", {"context": "."})
    assert api["command"][:2] == ["learnloop", "serve"]
    assert "ports" not in api, "api replicas are reached through nginx, not published"


def test_compose_long_running_services_have_healthchecks() -> None:
    services = _services()
    for name in ("postgres", "redis", "minio", "api"):
        test = services[name].get("healthcheck", {}).get("test")
        assert test, f"{name} has no healthcheck"
    assert "/healthz" in " ".join(services["api"]["healthcheck"]["test"])


def test_compose_api_and_worker_wait_for_migrate_and_healthy_backends() -> None:
    services = _services()
    assert " ".join(services["migrate"]["command"]) == "learnloop migrate"
    assert _depends_on(services["migrate"])["postgres"] == "service_healthy"
    assert " ".join(services["worker"]["command"]) == "learnloop worker"
    for name in ("api", "worker"):
        depends = _depends_on(services[name])
        assert depends.get("migrate") == "service_completed_successfully", name
        assert depends.get("minio-init") == "service_completed_successfully", name
        assert depends.get("redis") == "service_healthy", name
        assert depends.get("minio") == "service_healthy", name
    assert _depends_on(services["minio-init"])["minio"] == "service_healthy"
    assert "api" in _depends_on(services["nginx"])


def test_compose_nginx_publishes_port_80_with_the_repo_config() -> None:
    nginx = _services()["nginx"]
    assert nginx["image"].startswith("nginx:1.27")
    assert "80:80" in [str(port) for port in nginx["ports"]]
    assert any(
        str(volume).startswith("./config/nginx.conf:/etc/nginx/nginx.conf") for volume in nginx["volumes"]
    )


def test_compose_secrets_have_no_defaults() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    # Where the messages of ${NAME:?message} stand: a secret's name may appear there.
    messages = [match.span(3) for match in INTERPOLATION.finditer(text) if match.group(3)]
    for name in SECRETS:
        occurrences = list(re.finditer(rf"(?<![A-Za-z0-9_]){name}(?![A-Za-z0-9_])", text))
        assert occurrences, f"{name} is not used in compose.yaml"
        for match in occurrences:
            if any(start <= match.start() < end for start, end in messages):
                continue
            required = text[match.start() - 2 : match.start()] == "${" and text[match.end() :].startswith(
                ":?"
            )
            # The variable named inside a container, e.g. `POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?...}`
            key = re.match(rf"{name}:\s*\$\{{{name}:\?[^}}]+\}}", text[match.start() :])
            line = text[text.rfind("\n", 0, match.start()) + 1 : text.find("\n", match.end())]
            assert required or key, f"{name} must only appear as ${{{name}:?message}}: {line.strip()!r}"
    for match in INTERPOLATION.finditer(text):
        name, operator, argument = match.groups()
        if name in SECRETS:
            assert operator == ":?" and argument.strip(), f"{match.group(0)} needs a message"


def test_compose_app_environment_is_shared_and_valid() -> None:
    compose = _compose()
    services = compose["services"]
    shared = compose["x-app-env"]
    assert isinstance(shared, dict)
    for name in ("migrate", "api", "worker"):
        assert services[name]["environment"] == shared, f"{name} does not use the x-app-env anchor"
    env = _environment(services["api"])
    assert (
        env["LEARNLOOP_DATABASE_URL"]
        == "postgresql://learnloop:test-postgres_password@postgres:5432/learnloop"
    )
    assert env["LEARNLOOP_REDIS_URL"] == "redis://redis:6379/0"
    assert env["LEARNLOOP_STORAGE_ENDPOINT"] == "minio:9000"
    assert env["LEARNLOOP_STORAGE_ACCESS_KEY"] == "test-minio_root_user"
    assert env["LEARNLOOP_STORAGE_SECRET_KEY"] == "test-minio_root_password"
    assert env["LEARNLOOP_SERVER_DATA_DIR"] == "/data"

    settings = settings_load(environ=env)  # every LEARNLOOP_* name must be a real setting
    assert settings.worker.embedded is False
    assert settings.server.trust_proxy is True
    assert settings.storage.bucket == "learnloop"
    assert not settings.uses_embedded_database
    assert not settings.uses_embedded_redis
    assert not settings.uses_embedded_storage


def test_compose_minio_and_postgres_get_the_same_secrets_as_the_app() -> None:
    services = _services()
    postgres = _environment(services["postgres"])
    assert postgres["POSTGRES_PASSWORD"] == "test-postgres_password"
    assert postgres["POSTGRES_USER"] == postgres["POSTGRES_DB"] == "learnloop"
    minio = _environment(services["minio"])
    assert minio["MINIO_ROOT_USER"] == "test-minio_root_user"
    assert minio["MINIO_ROOT_PASSWORD"] == "test-minio_root_password"


# --- nginx.conf -------------------------------------------------------------------------------------


def test_nginx_proxies_to_every_api_replica() -> None:
    text = _nginx()
    upstream = _block(text, r"upstream\s+learnloop_api")
    assert re.search(r"server\s+api:8000\b", upstream)
    assert re.search(r"(?m)^\s*resolver\s+127\.0\.0\.11\b", text), "Docker DNS must be re-asked for replicas"
    assert "proxy_pass http://learnloop_api" in _block(text, r"location\s+/")


def test_nginx_upgrades_reactpy_websockets() -> None:
    reactpy = _block(_nginx(), r"location\s+/reactpy/")
    assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade;", reactpy)
    assert re.search(r"proxy_set_header\s+Connection\s+\$connection_upgrade;", reactpy)
    assert re.search(r"proxy_http_version\s+1\.1;", reactpy)
    assert re.search(r"proxy_read_timeout\s+(\d+h|\d{4,}s?);", reactpy), "sockets need a long read timeout"
    # proxy_set_header in a location replaces the server-level list: forwarding headers must be repeated.
    for header in ("Host", "X-Forwarded-For", "X-Forwarded-Proto"):
        assert re.search(rf"proxy_set_header\s+{header}\s", reactpy), header


def test_nginx_compresses_text() -> None:
    text = _nginx()
    assert re.search(r"(?m)^\s*gzip\s+on;", text)
    types = re.search(r"gzip_types([^;]*);", text)
    assert types
    for mime in ("text/css", "application/javascript", "application/json", "image/svg+xml"):
        assert mime in types.group(1), mime
    assert "manifest+json" in types.group(1)


def test_nginx_caches_static_files_long_but_never_the_service_worker() -> None:
    text = _nginx()
    for header in (r"location\s+/static/", r"location\s+/reactpy/static/"):
        block = _block(text, header)
        assert "max-age=31536000" in block and "immutable" in block, header
    service_worker = _block(text, r"location\s+=\s+/sw\.js")
    assert re.search(r"Cache-Control\s+\"no-cache\"", service_worker)
    assert "max-age=31536000" not in service_worker
    assert "immutable" not in service_worker
    assert not re.search(r"expires\s+(?!-1|epoch|off)", service_worker)


def test_nginx_limits_and_headers() -> None:
    text = _nginx()
    server = _block(text, "server")
    assert re.search(r"client_max_body_size\s+16m;", server)
    assert re.search(r"proxy_set_header\s+X-Forwarded-For\s", server)
    assert re.search(r"proxy_set_header\s+X-Forwarded-Proto\s", server)
    assert re.search(r"add_header\s+X-Content-Type-Options\s+\"nosniff\"", server)
    assert re.search(r"add_header\s+Referrer-Policy\s", server)
    # Every location with its own add_header loses the server's: each must repeat nosniff.
    for location in re.finditer(r"location\s+([^{]+)\{", server):
        block = _block_from(server, location.end())
        own = re.sub(r"location\s+[^{]+\{[^}]*\}", "", block)  # without nested locations
        if "add_header" in own:
            assert "X-Content-Type-Options" in own, location.group(1)


def test_nginx_braces_balance() -> None:
    text = _nginx()
    assert text.count("{") == text.count("}")
    assert re.search(r"(?m)^events\s*\{", text)
    assert re.search(r"(?m)^http\s*\{", text)


# --- settings examples ------------------------------------------------------------------------------


def test_production_example_loads_and_names_every_key() -> None:
    settings = settings_load(config_file=PRODUCTION_TOML, environ={})
    assert settings.database.url.startswith("postgresql://")
    assert settings.redis.url.startswith("redis://")
    assert settings.storage.endpoint == "minio:9000"
    assert settings.worker.embedded is False
    assert settings.server.trust_proxy is True
    assert settings.server.demo is False

    written = msgspec.toml.decode(PRODUCTION_TOML.read_bytes())
    for section, keys in _settings_keys().items():
        assert section in written, f"[{section}] missing from {PRODUCTION_TOML.name}"
        missing = sorted(set(keys) - set(written[section]))
        assert not missing, f"[{section}] lacks {missing} in {PRODUCTION_TOML.name}"


def test_production_example_comments_every_key() -> None:
    lines = PRODUCTION_TOML.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^[a-z_]+\s*=", line):
            before = lines[number - 1].strip()
            assert before.startswith("#") or re.match(r"^[a-z_]+\s*=", before), f"uncommented: {line}"


def test_env_example_names_every_setting_and_the_compose_secrets() -> None:
    lines = _env_example_lines()
    for section, keys in _settings_keys().items():
        for key in keys:
            assert _env_name(section, key) in lines, f"{_env_name(section, key)} missing from .env.example"
    for name in SECRETS:
        assert name in lines, f"{name} missing from .env.example"
    assert lines["POSTGRES_PASSWORD"] == "" and lines["MINIO_ROOT_PASSWORD"] == "", "ship no real password"


@pytest.mark.parametrize("name", sorted(n for n in _env_example_lines() if n.startswith("LEARNLOOP_")))
def test_env_example_line_is_accepted(name: str) -> None:
    value = _env_example_lines()[name]
    try:
        settings_load(environ={name: value})
    except SettingsError as exc:
        pytest.fail(f"{name}={value}: {exc}")


def test_env_example_as_a_whole_is_the_production_setup() -> None:
    env = {name: value for name, value in _env_example_lines().items() if name.startswith("LEARNLOOP_")}
    settings = settings_load(environ=env)
    assert settings.worker.embedded is False
    assert settings.server.trust_proxy is True
    assert settings.server.data_dir == "/data"
    assert not settings.uses_embedded_database


def test_env_example_rejects_a_misspelt_setting() -> None:
    # Guards the test above: settings_load really refuses unknown names.
    with pytest.raises(SettingsError):
        settings_load(environ={"LEARNLOOP_SERVER_DATADIR": "/data"})


# --- Dockerfile --------------------------------------------------------------------------------------


def test_dockerfile_installs_locked_dependencies_as_non_root() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"(?m)^FROM python:3\.11-slim\b", text)
    assert "uv pip sync --system --require-hashes requirements.lock" in text
    assert "uv pip install --system --no-deps ." in text
    users = re.findall(r"(?m)^USER\s+(\S+)", text)
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"
    for path in ("backend/", "pwa/", "config/", "pyproject.toml", "requirements.lock", "README.md"):
        assert re.search(rf"(?m)^COPY\b.*\s{re.escape(path)}", text), path
    assert '"learnloop", "serve", "--host", "0.0.0.0", "--port", "8000"' in text
