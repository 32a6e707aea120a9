"""deploy/k8s manifests, checked statically (no cluster needed)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tests.deploy import checks

Docs = list[dict[str, Any]]


@pytest.fixture(scope="module")
def docs() -> Docs:
    return checks.load_k8s()


def _one(docs: Docs, kind: str) -> dict[str, Any]:
    found = [d for d in docs if d.get("kind") == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def _worker(docs: Docs) -> dict[str, Any]:
    containers = _one(docs, "StatefulSet")["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == "worker")


def test_manifests_have_no_problems(docs: Docs) -> None:
    assert checks.k8s_problems(docs) == []


def test_every_manifest_parses_and_has_kind() -> None:
    paths = sorted(checks.K8S_DIR.glob("*.yaml"))
    assert paths
    for path in paths:
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            assert doc and "apiVersion" in doc and "kind" in doc, path.name


def test_kustomization_lists_existing_files() -> None:
    kustomization = yaml.safe_load((checks.K8S_DIR / "kustomization.yaml").read_text(encoding="utf-8"))
    for resource in kustomization["resources"]:
        assert (checks.K8S_DIR / resource).is_file(), resource
    assert "statefulset.yaml" in kustomization["resources"]


def test_statefulset_has_volume_claim_per_pod(docs: Docs) -> None:
    sts = _one(docs, "StatefulSet")
    claims = sts["spec"]["volumeClaimTemplates"]
    assert [c["metadata"]["name"] for c in claims] == ["state"]
    assert claims[0]["spec"]["accessModes"] == ["ReadWriteOnce"]
    mounts = {m["mountPath"]: m["name"] for m in _worker(docs)["volumeMounts"]}
    assert mounts[checks.STATE_DIR] == "state"


def test_runs_as_non_root(docs: Docs) -> None:
    pod = _one(docs, "StatefulSet")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["terminationGracePeriodSeconds"] == 30


def test_configmap_keys_are_settings(docs: Docs) -> None:
    data = _one(docs, "ConfigMap")["data"]
    assert data, "ConfigMap is empty"
    assert set(data) <= checks.settings_env_names(), set(data) - checks.settings_env_names()


def test_services_headless_and_metrics(docs: Docs) -> None:
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    sts = _one(docs, "StatefulSet")
    assert services[sts["spec"]["serviceName"]]["spec"]["clusterIP"] == "None"
    assert any(
        s["spec"].get("clusterIP") != "None" and any(p["port"] == 6066 for p in s["spec"]["ports"])
        for s in services.values()
    )


def test_readiness_on_metrics_port(docs: Docs) -> None:
    worker = _worker(docs)
    probe = worker["readinessProbe"]["httpGet"]
    assert probe["path"] == "/metrics"
    ports = {p["name"]: p["containerPort"] for p in worker["ports"]}
    assert ports[probe["port"]] == 6066


# --- broken copies must be reported ------------------------------------------------------------------------


def _pod(docs: Docs) -> dict[str, Any]:
    pod: dict[str, Any] = _one(docs, "StatefulSet")["spec"]["template"]["spec"]
    return pod


def _env_item(docs: Docs, name: str) -> dict[str, Any]:
    return next(e for e in _worker(docs)["env"] if e["name"] == name)


def _deployment(docs: Docs) -> None:
    _one(docs, "StatefulSet")["kind"] = "Deployment"


def _no_claims(docs: Docs) -> None:
    del _one(docs, "StatefulSet")["spec"]["volumeClaimTemplates"]


def _root(docs: Docs) -> None:
    _pod(docs)["securityContext"]["runAsNonRoot"] = False


def _bad_key(docs: Docs) -> None:
    _one(docs, "ConfigMap")["data"]["RESTOCK_TOPIC_ORDER"] = "orders"


def _bad_value(docs: Docs) -> None:
    _one(docs, "ConfigMap")["data"]["RESTOCK_SERVICE_LEVEL"] = "1.5"


def _poll_below_session(docs: Docs) -> None:
    _one(docs, "ConfigMap")["data"]["RESTOCK_MAX_POLL_INTERVAL_S"] = "5"


def _state_elsewhere(docs: Docs) -> None:
    _env_item(docs, "RESTOCK_STATE_DIR")["value"] = "/data"


def _loopback_bind(docs: Docs) -> None:
    _env_item(docs, "RESTOCK_WEB_BIND")["value"] = "127.0.0.1"


def _readiness_elsewhere(docs: Docs) -> None:
    _worker(docs)["readinessProbe"] = {"tcpSocket": {"port": 9999}}


def _no_limits(docs: Docs) -> None:
    del _worker(docs)["resources"]["limits"]


def _grace(docs: Docs) -> None:
    _pod(docs)["terminationGracePeriodSeconds"] = 5


def _too_many_replicas(docs: Docs) -> None:
    _one(docs, "StatefulSet")["spec"]["replicas"] = 100


def _not_headless(docs: Docs) -> None:
    for d in docs:
        if d["kind"] == "Service":
            d["spec"].pop("clusterIP", None)


def _helm(docs: Docs) -> None:
    _worker(docs)["image"] = "{{ .Values.image }}"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_deployment, "expected one StatefulSet"),
        (_no_claims, "volumeClaimTemplates"),
        (_root, "runAsNonRoot"),
        (_bad_key, "RESTOCK_TOPIC_ORDER"),
        (_bad_value, "do not validate"),
        (_poll_below_session, "max.poll.interval.ms"),
        (_state_elsewhere, "RESTOCK_STATE_DIR"),
        (_loopback_bind, "RESTOCK_WEB_BIND"),
        (_readiness_elsewhere, "readinessProbe"),
        (_no_limits, "resources.limits"),
        (_grace, "terminationGracePeriodSeconds"),
        (_too_many_replicas, "exceed RESTOCK_PARTITIONS"),
        (_not_headless, "headless"),
        (_helm, "template syntax"),
    ],
)
def test_k8s_checks_catch_breakage(docs: Docs, mutate: Callable[[Docs], None], expected: str) -> None:
    broken = copy.deepcopy(docs)
    mutate(broken)
    problems = checks.k8s_problems(broken)
    assert any(expected in p for p in problems), problems
