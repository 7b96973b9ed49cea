"""The deployment files, checked by construction: no Docker engine runs here.

docker-compose.yml is validated against the Compose Specification's JSON schema (vendored at
deploy/compose-spec.schema.json) as written and after interpolation with deploy/.env.example,
then held to the deployment's own rules: the services it must define, healthchecks, start
order, one Celery configuration for every Airflow process, secrets only from the environment,
loopback-only ports. deploy/Dockerfile is checked against the pinned lock files.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from urllib.parse import urlparse

import jsonschema
import pytest
import yaml

from tthc.warehouse import Dsn

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
SCHEMA_FILE = REPO / "deploy" / "compose-spec.schema.json"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
ENV_EXAMPLE = REPO / "deploy" / ".env.example"
MAIN_LOCK = REPO / "requirements" / "main.lock"
SUPERSET_LOCK = REPO / "requirements" / "superset.lock"
SUPERSET_DOCKERFILE = REPO / "bi" / "superset" / "Dockerfile"

AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
)
REQUIRED_SERVICES = AIRFLOW_SERVICES + ("redis", "airflow-metadata-db", "warehouse", "simulator", "superset")
# The warehouse's stages and the role each logs in as (tthc/warehouse/roles.py).
STAGE_ROLES = {"LOADER": "tthc_loader", "TRANSFORMER": "tthc_transformer", "PUBLISHER": "tthc_publisher"}

# Environment keys whose values are credentials.
SECRET_KEY = re.compile(r"PASSWORD|SECRET|TOKEN|SALT|(_KEY|_AUTH)$")
# One whole ${VAR}, ${VAR:?msg} or ${VAR:-} (an empty default): nothing secret in the file itself.
SECRET_VALUE = re.compile(r"^\$\{[A-Z][A-Z0-9_]*(:?\?[^}]*|:?-)?\}$")
# Compose interpolation: $$ is a literal $, else ${NAME}, ${NAME:-default}, ${NAME-default},
# ${NAME:?error}, ${NAME?error}.
INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


# --- loading -------------------------------------------------------------------------------


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def load_schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def load_env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f".env.example: not NAME=value: {line!r}"
            values[name.strip()] = value.strip()
    return values


def strings(node):
    """Every string in a loaded YAML document (keys excluded)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable substitution, strictly: a missing required variable raises."""

    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group(1), match.group(2), match.group(3)
        value = env.get(name)
        unset = value is None
        empty_or_unset = not value
        if op in (":?", "?") and (empty_or_unset if op == ":?" else unset):
            raise KeyError(f"required variable {name} is missing: {arg}")
        if op in (":-", "-") and (empty_or_unset if op == ":-" else unset):
            return arg
        return value or ""

    return INTERPOLATION.sub(substitute, text)


def interpolate_tree(node, env: dict[str, str]):
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, dict):
        return {key: interpolate_tree(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate_tree(value, env) for value in node]
    return node


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def is_one_shot(service: dict) -> bool:
    return service.get("restart", "no") == "no"


def depends_on(service: dict) -> dict[str, dict]:
    deps = service.get("depends_on", {})
    return {name: {} for name in deps} if isinstance(deps, list) else deps


def published_ports(service: dict) -> list[str]:
    return [str(port) for port in service.get("ports", [])]


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose()


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


@pytest.fixture(scope="module")
def rendered(compose) -> dict:
    """The file as Compose sees it once .env.example's values are substituted."""
    return interpolate_tree(compose, load_env_example())


# --- the Compose Specification -------------------------------------------------------------


def test_vendored_schema_is_the_compose_specification():
    schema = load_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["title"] == "Compose Specification"
    assert "service_completed_successfully" in json.dumps(schema["definitions"]["service"]["properties"]["depends_on"])


def test_compose_file_validates_against_the_specification(compose):
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft7Validator(load_schema()).iter_errors(compose)
    ]
    assert errors == []


def test_interpolated_compose_file_still_validates(rendered):
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft7Validator(load_schema()).iter_errors(rendered)
    ]
    assert errors == []
    assert rendered["services"]["airflow-worker"]["deploy"]["replicas"] == "1"


def test_schema_rejects_what_compose_would_reject(compose):
    """The validation above can fail: a misspelt key and an unknown start condition are caught."""
    validator = jsonschema.Draft7Validator(load_schema())
    misspelt = copy.deepcopy(compose)
    misspelt["services"]["warehouse"]["healthcheck"]["intervall"] = "10s"
    assert not validator.is_valid(misspelt)
    bad_condition = copy.deepcopy(compose)
    bad_condition["services"]["airflow-scheduler"]["depends_on"]["redis"]["condition"] = "service_ready"
    assert not validator.is_valid(bad_condition)


def test_interpolation_uses_only_braced_variables():
    # A bare $NAME is easy to mistype and is not what the secrets check reads; $$ escapes a $.
    for text in strings(load_compose()):
        assert re.search(r"\$(?!\$|\{)", text.replace("$$", "")) is None, text


def test_required_variables_stop_compose_when_unset(compose):
    with pytest.raises(KeyError, match="AIRFLOW_DB_PASSWORD"):
        interpolate_tree(compose, {k: v for k, v in load_env_example().items() if k != "AIRFLOW_DB_PASSWORD"})


# --- services, health and start order ------------------------------------------------------


def test_every_required_service_is_defined(services):
    missing = [name for name in REQUIRED_SERVICES if name not in services]
    assert missing == []


def test_every_long_running_service_has_a_healthcheck(services):
    long_running = [name for name, svc in services.items() if not is_one_shot(svc)]
    assert set(long_running) >= set(REQUIRED_SERVICES) - {"airflow-init"}
    for name in long_running:
        check = services[name].get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


def test_start_order_waits_on_real_conditions(services):
    for name, svc in services.items():
        for target, rule in depends_on(svc).items():
            assert target in services, f"{name} depends on unknown service {target}"
            condition = rule.get("condition")
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target} to be healthy, it has no check"
            elif condition == "service_completed_successfully":
                assert is_one_shot(services[target]), f"{name} waits for {target} to exit, it restarts"
            else:
                pytest.fail(f"{name} -> {target}: condition {condition!r} waits for nothing useful")


def test_airflow_processes_start_after_init_and_their_backends(services):
    assert depends_on(services["airflow-init"]).keys() >= {"airflow-metadata-db", "redis"}
    for name in AIRFLOW_SERVICES:
        if name == "airflow-init":
            continue
        deps = depends_on(services[name])
        assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
        assert deps["airflow-metadata-db"]["condition"] == "service_healthy", name
        assert deps["redis"]["condition"] == "service_healthy", name
    assert depends_on(services["airflow-worker"])["warehouse"]["condition"] == "service_healthy"


def test_init_migrates_and_creates_the_admin(services):
    script = " ".join(services["airflow-init"]["command"])
    assert "airflow db migrate" in script
    assert "airflow users create" in script and "--role Admin" in script


def test_api_server_and_simulator_commands(services):
    assert services["airflow-apiserver"]["command"] == "api-server"
    assert any(":8080" in port for port in published_ports(services["airflow-apiserver"]))
    simulator = services["simulator"]
    argv = simulator["entrypoint"] + simulator["command"]
    assert argv[:2] == ["tthc-simulator", "serve"]
    assert argv[argv.index("--host") + 1] == "0.0.0.0"
    assert argv[argv.index("--port") + 1] == "8765"


# --- one Airflow configuration -------------------------------------------------------------


def test_airflow_services_share_the_common_image_and_environment(compose, services):
    common = compose["x-airflow-common"]
    common_env = environment(common)
    for name in AIRFLOW_SERVICES:
        svc = services[name]
        assert svc["image"] == common["image"] and svc["build"] == common["build"], name
        env = environment(svc)
        assert {k: env.get(k) for k in common_env} == common_env, f"{name} drifts from x-airflow-common"
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false", name
        assert env["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "false", name
        assert (
            env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
            and "@redis:" in env["AIRFLOW__CELERY__BROKER_URL"]
        )
        assert "./dags:/opt/airflow/dags:ro" in svc["volumes"], name
    assert services["simulator"]["image"] == common["image"]


def test_workers_scale_out_without_collisions(services):
    worker = services["airflow-worker"]
    assert worker["command"] == "celery worker"
    assert "replicas" in worker.get("deploy", {})
    assert "container_name" not in worker and "ports" not in worker
    assert not any("container_name" in svc for svc in services.values())


def test_connections_point_at_the_sources_and_each_stage_at_its_role(rendered):
    env = environment(rendered["x-airflow-common"])
    conns = {name: json.loads(env[f"AIRFLOW_CONN_{name}"]) for name in ("ONE_STOP", "DVC_PORTAL")}
    assert conns["ONE_STOP"]["conn_type"] == conns["DVC_PORTAL"]["conn_type"] == "http"
    assert conns["ONE_STOP"]["host"] == env["ONE_STOP_BASE_URL"]
    assert conns["DVC_PORTAL"]["host"] == env["DVC_PORTAL_BASE_URL"]
    warehouse_env = environment(rendered["services"]["warehouse"])
    for stage, role in STAGE_ROLES.items():
        conn = json.loads(env[f"AIRFLOW_CONN_WAREHOUSE_{stage}"])
        assert conn["conn_type"] == "postgres" and conn["login"] == role, stage
        assert (conn["host"], conn["port"], conn["schema"]) == ("warehouse", 5432, warehouse_env["POSTGRES_DB"]), stage
        assert conn["password"] == load_env_example()[f"TTHC_{stage}_PASSWORD"], stage
    # the admin's connection and DSN (from which stages would derive their logins) are not there
    assert "AIRFLOW_CONN_WAREHOUSE" not in env and "WAREHOUSE_DSN" not in env


def test_only_the_bootstrap_holds_the_superuser_password(compose, rendered, services):
    """The warehouse's superuser password reaches two services: the server, and the one-shot
    bootstrap that creates the stages' roles; no Airflow process ever gets it."""
    holders = {
        name
        for name, svc in compose["services"].items()
        if any("${WAREHOUSE_PASSWORD" in text for text in strings(svc))
    }
    assert holders == {"warehouse", "warehouse-bootstrap"}
    assert not any("${WAREHOUSE_PASSWORD" in text for text in strings(compose["x-airflow-common"]))
    bootstrap = services["warehouse-bootstrap"]
    assert is_one_shot(bootstrap) and bootstrap["command"] == ["warehouse", "bootstrap"]
    assert bootstrap["image"] == compose["x-airflow-common"]["image"]
    env = environment(rendered["services"]["warehouse-bootstrap"])
    admin = Dsn.parse(env["WAREHOUSE_DSN"])
    warehouse_env = environment(rendered["services"]["warehouse"])
    assert (admin.host, admin.user, admin.dbname) == (
        "warehouse",
        warehouse_env["POSTGRES_USER"],
        warehouse_env["POSTGRES_DB"],
    )
    assert admin.password == warehouse_env["POSTGRES_PASSWORD"]
    # it sets every role's password, BI's included, from .env
    assert {k for k in env if k.startswith("TTHC_") and k.endswith("_PASSWORD")} == {
        f"TTHC_{stage}_PASSWORD" for stage in (*STAGE_ROLES, "BI")
    }
    # the workers run tasks only once the roles exist
    worker_deps = depends_on(services["airflow-worker"])
    assert worker_deps["warehouse-bootstrap"]["condition"] == "service_completed_successfully"


def test_warehouse_and_metadata_db_are_separate_servers(rendered, services):
    meta_url = urlparse(environment(services["airflow-init"])["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    warehouse_url = urlparse(environment(rendered["services"]["warehouse-bootstrap"])["WAREHOUSE_DSN"])
    assert meta_url.hostname == "airflow-metadata-db" and warehouse_url.hostname == "warehouse"
    meta, warehouse = services["airflow-metadata-db"], services["warehouse"]
    assert meta["image"] == "postgres:16" and warehouse["image"].startswith("postgres:")
    assert set(meta["volumes"]).isdisjoint(warehouse["volumes"])
    assert not published_ports(meta), "the metadata DB is for Airflow only"


def test_published_ports_bind_loopback_only(services):
    for name, _svc in services.items():
        for port in published_ports(services[name]):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"
    assert published_ports(services["warehouse"]), "the warehouse should be reachable from the host"


# --- secrets -------------------------------------------------------------------------------


def test_no_literal_secrets(compose):
    envs = {"x-airflow-common": environment(compose["x-airflow-common"])}
    envs.update({name: environment(svc) for name, svc in compose["services"].items()})
    for owner, env in envs.items():
        for key, value in env.items():
            if SECRET_KEY.search(key):
                assert SECRET_VALUE.match(value), f"{owner}.{key} is not a ${{VAR}} interpolation"
    for text in strings(compose):
        for password in re.findall(r"://[^/\s:@]*:([^@\s]*)@", text):
            assert SECRET_VALUE.match(password), f"literal password in URL {text!r}"
        if text.startswith("{"):
            fields = json.loads(text)
            fields.update(fields.pop("extra", {}))
            for key, value in fields.items():
                if SECRET_KEY.search(key.upper()) or key == "password":
                    assert SECRET_VALUE.match(value), f"literal {key} in {text!r}"


def test_every_secret_is_required_or_optional_by_choice(compose):
    """A secret variable is either required somewhere (${X:?}) or defaults to empty (${X:-})."""
    uses: dict[str, set[str]] = {}
    for text in strings(compose):
        for match in INTERPOLATION.finditer(text):
            if match.group(1):
                uses.setdefault(match.group(1), set()).add(match.group(2) or "")
    secrets = {name for name in uses if SECRET_KEY.search(name) or name.endswith("CLIENT_ID")}
    assert {"AIRFLOW_DB_PASSWORD", "WAREHOUSE_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_FERNET_KEY"} <= secrets
    for name in secrets:
        assert uses[name] & {":?", ":-"}, f"{name} can silently be empty"


def test_env_example_documents_exactly_the_variables_used(compose):
    used = {m.group(1) for text in strings(compose) for m in INTERPOLATION.finditer(text) if m.group(1)}
    documented = set(load_env_example())
    assert used - documented == set(), "used in docker-compose.yml, missing from deploy/.env.example"
    assert documented - used - {"COMPOSE_PROFILES"} == set(), "documented but unused"


def test_env_example_commits_no_real_secrets():
    # Source credentials are the simulator's public demo values; everything else is a placeholder.
    for name, value in load_env_example().items():
        if SECRET_KEY.search(name) and not name.startswith(("ONE_STOP_", "DVC_PORTAL_")):
            assert value in ("", "change-me"), f"{name} in .env.example should be a placeholder"


# --- the image -----------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def test_dockerfile_base_image_matches_the_locked_airflow():
    locked = re.search(r"^apache-airflow==(\S+)$", MAIN_LOCK.read_text(encoding="utf-8"), re.M)
    assert locked, "apache-airflow is not pinned in requirements/main.lock"
    bases = [arg for op, arg in dockerfile_instructions() if op == "FROM"]
    assert bases == [f"apache/airflow:{locked.group(1)}-python3.11"]


def test_dockerfile_installs_from_the_lock_files():
    runs = [arg for op, arg in dockerfile_instructions() if op == "RUN"]
    assert any(re.search(r"(^|\s)pip install .*-r \S*requirements/main\.lock", run) for run in runs)
    assert any(re.search(r"/opt/dbt-venv/bin/pip install .*-r \S*requirements/dbt\.lock", run) for run in runs)
    assert any(re.search(r"pip install .*--no-deps (-e )?/opt/tthc\b", run) for run in runs)
    env = " ".join(arg for op, arg in dockerfile_instructions() if op == "ENV")
    assert "TTHC_DBT_BIN=/opt/dbt-venv/bin/dbt" in env


def test_dockerfile_copies_only_what_exists():
    for op, arg in dockerfile_instructions():
        if op == "COPY":
            sources = [part for part in arg.split()[:-1] if not part.startswith("--")]
            for source in sources:
                assert (REPO / source).exists(), f"COPY {source}: not in the repository"


# --- Superset (bi/superset, docs/dashboards.md) ---------------------------------------------------


def locked(lock: Path, package: str) -> str:
    found = re.search(rf"^{re.escape(package)}==(\S+)$", lock.read_text(encoding="utf-8"), re.M | re.I)
    assert found, f"{package} is not pinned in {lock.name}"
    return found.group(1)


def test_superset_image_is_the_locked_release_with_the_locked_driver(services):
    text = SUPERSET_DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    bases = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert bases == [f"apache/superset:{locked(SUPERSET_LOCK, 'apache_superset')}"]
    assert f"psycopg2-binary=={locked(SUPERSET_LOCK, 'psycopg2-binary')}" in text
    assert services["superset"]["build"]["dockerfile"] == "bi/superset/Dockerfile"


def test_superset_starts_migrated_with_its_admin_and_imports_the_dashboards(services):
    superset = services["superset"]
    assert "./bi/superset:/app/tthc_bi:ro" in superset["volumes"]
    assert superset["entrypoint"] == ["/bin/sh", "/app/tthc_bi/start.sh"]
    script = "\n".join(
        line
        for line in (REPO / "bi" / "superset" / "start.sh").read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
    )
    steps = [
        "superset db upgrade",
        "superset fab create-admin",
        "superset init",
        "/usr/bin/run-server.sh",
        "/app/tthc_bi/importer.py",
    ]
    assert [script.index(step) for step in steps] == sorted(script.index(step) for step in steps)
    assert "--password" not in script, "the admin password goes in on stdin, not on a command line"
    env = environment(superset)
    assert env["SUPERSET_CONFIG_PATH"] == "/app/tthc_bi/superset_config.py"
    assert (REPO / "bi" / "superset" / "superset_config.py").exists()
    assert env["SCARF_ANALYTICS"] == "false"
    deps = depends_on(superset)
    assert deps["warehouse-bootstrap"]["condition"] == "service_completed_successfully"
    assert deps["warehouse"]["condition"] == "service_healthy"


def test_superset_reads_the_warehouse_as_tthc_bi_with_the_bootstrap_password(rendered, services):
    """The importer hands Superset tthc_bi's password from the variable the bootstrap sets the role's
    password from; Superset gets no other warehouse login."""
    env = environment(services["superset"])
    assert env["TTHC_BI_PASSWORD"] == environment(services["warehouse-bootstrap"])["TTHC_BI_PASSWORD"]
    assert not any(
        "${WAREHOUSE_PASSWORD" in text
        or "TTHC_LOADER" in text
        or "TTHC_TRANSFORMER" in text
        or "TTHC_PUBLISHER" in text
        for text in strings(services["superset"])
    )
    rendered_env = environment(rendered["services"]["superset"])
    warehouse_env = environment(rendered["services"]["warehouse"])
    assert (rendered_env["TTHC_WAREHOUSE_HOST"], rendered_env["TTHC_WAREHOUSE_DB"]) == (
        "warehouse",
        warehouse_env["POSTGRES_DB"],
    )
    assert rendered_env["TTHC_WAREHOUSE_PORT"] == "5432"


def test_superset_keeps_its_metadata_on_its_own_volume(compose, services):
    env = environment(services["superset"])
    assert env["SUPERSET_METADATA_URI"].startswith("sqlite:////app/superset_home/")
    volume = next(v for v in services["superset"]["volumes"] if v.endswith(":/app/superset_home"))
    name = volume.split(":")[0]
    assert name in compose["volumes"]
    others = [v for svc_name, svc in services.items() if svc_name != "superset" for v in svc.get("volumes", [])]
    assert not any(v.split(":")[0] == name for v in others)
