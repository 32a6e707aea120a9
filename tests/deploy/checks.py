"""Static checks of the deployment files (no Docker or Kubernetes needed).

Each ``*_problems`` function takes parsed content and returns a list of human-readable problems (empty = fine).
The tests assert that the real files have none, and that deliberately broken copies do have some, so the
checks are known to be able to fail.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from streams.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "deploy" / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
COMPOSE = REPO / "docker-compose.yml"
K8S_DIR = REPO / "deploy" / "k8s"
PROMETHEUS = REPO / "deploy" / "prometheus.yml"
ALERTS = REPO / "deploy" / "prometheus-alerts.yml"
METRICS_MD = REPO / "deploy" / "metrics.md"
CONSTRAINTS = REPO / "deploy" / "constraints.txt"
PYPROJECT = REPO / "pyproject.toml"

STATE_DIR = "/var/lib/restock"
ENV_PREFIX = "RESTOCK_"
#: RESTOCK_* variables that are read by load_settings() but are not fields.
NON_FIELD_ENV = frozenset({"RESTOCK_CONFIG"})
LOOPBACK = "127.0.0.1"

#: The metric names agreed with the worker author.
METRIC_NAMES = (
    "restock_events_total",
    "restock_dlq_total",
    "restock_commands_total",
    "restock_decision_pass_seconds",
    "restock_batch_seconds",
    "restock_batch_events",
    "restock_state_keys",
    "restock_event_time_lag_seconds",
)


# --- settings ----------------------------------------------------------------------------------------------


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def settings_env_names() -> set[str]:
    return {env_name(f) for f in Settings.model_fields}


def restock_env_problems(where: str, env: Mapping[str, Any]) -> list[str]:
    """Every RESTOCK_* name must be a Settings field, and the values must validate together."""
    problems: list[str] = []
    valid = settings_env_names()
    fields: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name in NON_FIELD_ENV:
            continue
        if name not in valid:
            problems.append(f"{where}: {name} is not a field of streams.settings.Settings")
            continue
        fields[name[len(ENV_PREFIX) :].lower()] = "" if value is None else str(value)
    if not problems:
        try:
            Settings(**fields)
        except ValueError as exc:  # pydantic.ValidationError is a ValueError
            problems.append(f"{where}: RESTOCK_* values do not validate as Settings: {exc}")
    return problems


# --- generic helpers ---------------------------------------------------------------------------------------


def env_dict(environment: Any) -> dict[str, Any]:
    """Compose ``environment`` as a mapping, whether written as a mapping or as a list of ``K=V``."""
    if environment is None:
        return {}
    if isinstance(environment, Mapping):
        return dict(environment)
    out: dict[str, Any] = {}
    for item in environment:
        key, _, value = str(item).partition("=")
        out[key] = value
    return out


def walk_strings(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield str(key)
            yield from walk_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk_strings(item)
    elif node is not None:
        yield str(node)


def as_argv(command: Any) -> list[str]:
    if command is None:
        return []
    if isinstance(command, str):
        return shlex.split(command)
    return [str(c) for c in command]


# --- compose -----------------------------------------------------------------------------------------------


def load_compose(path: Path = COMPOSE) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), f"{path} is not a mapping"
    return doc


def published_host_ips(port: Any) -> list[str | None]:
    """Host IPs of one compose ``ports`` entry (None where the entry binds every interface)."""
    if isinstance(port, Mapping):
        if "published" not in port:
            return []  # container port only, not published
        return [port.get("host_ip")]
    text = str(port)
    if text.startswith("["):  # [::1]:8080:80
        return [text[1 : text.index("]")]]
    parts = text.split(":")
    if len(parts) == 3:
        return [parts[0]]
    return [None]  # "80" or "8080:80": every interface


def container_port(port: Any) -> int:
    if isinstance(port, Mapping):
        return int(str(port["target"]).split("/")[0])
    return int(str(port).rsplit(":", 1)[-1].split("/")[0])


def mounts(service: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(source, target) of each volume entry of a service."""
    out: list[tuple[str, str]] = []
    for entry in service.get("volumes") or []:
        if isinstance(entry, Mapping):
            out.append((str(entry.get("source", "")), str(entry["target"])))
        else:
            parts = str(entry).split(":")
            if len(parts) >= 2:
                out.append((parts[0], parts[1]))
    return out


def depends_condition(service: Mapping[str, Any], other: str) -> str | None:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return "service_started" if other in deps else None
    spec = deps.get(other)
    if spec is None:
        return None
    return str((spec or {}).get("condition", "service_started"))


def parse_listeners(value: str) -> dict[str, tuple[str, int]]:
    """``NAME://host:port,...`` -> {NAME: (host, port)}."""
    out: dict[str, tuple[str, int]] = {}
    for item in str(value).split(","):
        item = item.strip()
        if not item:
            continue
        name, _, address = item.partition("://")
        host, _, port = address.rpartition(":")
        out[name] = (host, int(port))
    return out


def compose_problems(doc: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    services: Mapping[str, Any] = doc.get("services") or {}
    for required in ("kafka", "topics", "worker"):
        if required not in services:
            problems.append(f"service {required!r} missing")
    if problems:
        return problems
    kafka, topics, worker = services["kafka"], services["topics"], services["worker"]

    # ZooKeeper nowhere (comments are not part of the parsed document).
    if any("zookeeper" in s.lower() for s in walk_strings(doc)):
        problems.append("ZooKeeper is mentioned in the compose document; the broker must run in KRaft mode")

    # Kafka: official image, KRaft combined node.
    image = str(kafka.get("image", ""))
    if not re.fullmatch(r"apache/kafka:\d+\.\d+\.\d+", image):
        problems.append(f"kafka image {image!r} is not a pinned apache/kafka:X.Y.Z")
    kenv = env_dict(kafka.get("environment"))
    roles = {r.strip() for r in str(kenv.get("KAFKA_PROCESS_ROLES", "")).split(",")}
    if not {"broker", "controller"} <= roles:
        problems.append(f"KAFKA_PROCESS_ROLES {roles} must include broker and controller (KRaft, one node)")
    for key in (
        "KAFKA_NODE_ID",
        "KAFKA_CONTROLLER_QUORUM_VOTERS",
        "KAFKA_CONTROLLER_LISTENER_NAMES",
        "KAFKA_LISTENERS",
        "KAFKA_ADVERTISED_LISTENERS",
        "CLUSTER_ID",
    ):
        if not kenv.get(key):
            problems.append(f"kafka environment lacks {key}")
    for key in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"):
        if str(kenv.get(key)) != "1":
            problems.append(f"{key} must be 1 on a single-node cluster, got {kenv.get(key)!r}")
    node_id = str(kenv.get("KAFKA_NODE_ID", ""))
    voters = str(kenv.get("KAFKA_CONTROLLER_QUORUM_VOTERS", ""))
    if node_id and not voters.startswith(f"{node_id}@"):
        problems.append(f"controller quorum voters {voters!r} do not name node {node_id}")
    if "kafka-broker-api-versions.sh" not in " ".join(as_argv((kafka.get("healthcheck") or {}).get("test"))):
        problems.append("kafka healthcheck must run /opt/kafka/bin/kafka-broker-api-versions.sh")
    log_dir = str(kenv.get("KAFKA_LOG_DIRS", "/tmp/kraft-combined-logs"))
    kafka_targets = {target: source for source, target in mounts(kafka)}
    if log_dir not in kafka_targets:
        problems.append(f"kafka data dir {log_dir} is not on a volume")

    # Every published port binds loopback only; no host networking.
    for name, service in services.items():
        if service.get("network_mode") == "host":
            problems.append(f"service {name} uses host networking")
        for port in service.get("ports") or []:
            for ip in published_host_ips(port):
                if ip != LOOPBACK:
                    problems.append(f"service {name} publishes {port!r} on {ip or 'every interface'}")

    # Worker reaches Kafka on the container listener advertised as the kafka service.
    wenv = env_dict(worker.get("environment"))
    bootstrap = str(wenv.get("RESTOCK_BOOTSTRAP_SERVERS", ""))
    advertised = parse_listeners(str(kenv.get("KAFKA_ADVERTISED_LISTENERS", "")))
    published = {container_port(p) for p in kafka.get("ports") or []}
    kafka_names = {"kafka", str(kafka.get("hostname", "kafka")), str(kafka.get("container_name", "kafka"))}
    for server in filter(None, bootstrap.split(",")):
        host, _, port_text = server.strip().rpartition(":")
        if host not in kafka_names or not port_text.isdigit():
            problems.append(f"RESTOCK_BOOTSTRAP_SERVERS {server!r} does not name the kafka service")
            continue
        match = [n for n, (h, p) in advertised.items() if h == host and p == int(port_text)]
        if not match:
            problems.append(f"RESTOCK_BOOTSTRAP_SERVERS {server!r} is not an advertised kafka listener")
        listeners = parse_listeners(str(kenv.get("KAFKA_LISTENERS", "")))
        for name in match:
            if name in listeners and listeners[name][1] in published:
                problems.append(f"worker uses listener {name}, which is the host-published one")
    if not bootstrap:
        problems.append("worker environment lacks RESTOCK_BOOTSTRAP_SERVERS")
    if str(env_dict(topics.get("environment")).get("RESTOCK_BOOTSTRAP_SERVERS")) != bootstrap:
        problems.append("topics and worker must use the same RESTOCK_BOOTSTRAP_SERVERS")

    # RESTOCK_* names are real settings and validate.
    for name, service in services.items():
        problems += restock_env_problems(f"compose service {name}", env_dict(service.get("environment")))

    # Worker specifics.
    if wenv.get("RESTOCK_WEB_BIND") != "0.0.0.0":
        problems.append("worker must set RESTOCK_WEB_BIND=0.0.0.0 inside the container")
    web_port = int(wenv.get("RESTOCK_WEB_PORT", Settings.model_fields["web_port"].default))
    if web_port not in {container_port(p) for p in worker.get("ports") or []}:
        problems.append(f"worker metrics port {web_port} is not published")
    state_dir = str(wenv.get("RESTOCK_STATE_DIR", ""))
    if state_dir != STATE_DIR:
        problems.append(f"worker RESTOCK_STATE_DIR must be {STATE_DIR}, got {state_dir!r}")
    declared = set((doc.get("volumes") or {}).keys())
    worker_targets = {target: source for source, target in mounts(worker)}
    if worker_targets.get(state_dir) not in declared:
        problems.append(f"worker state dir {state_dir} is not mounted from a declared named volume")
    if kafka_targets.get(log_dir) not in declared:
        problems.append(f"kafka data dir {log_dir} is not mounted from a declared named volume")
    if worker.get("restart") != "unless-stopped":
        problems.append("worker restart policy must be unless-stopped")
    if str(worker.get("stop_grace_period")) != "30s":
        problems.append("worker stop_grace_period must be 30s")

    # Start order.
    if depends_condition(topics, "kafka") != "service_healthy":
        problems.append("topics must depend on kafka with condition service_healthy")
    if depends_condition(worker, "topics") != "service_completed_successfully":
        problems.append("worker must depend on topics with condition service_completed_successfully")
    if as_argv(topics.get("command")) != ["topics", "create"]:
        problems.append(f"topics command {topics.get('command')!r} is not `restock topics create`")
    if as_argv(worker.get("command")) not in ([], ["worker"]):
        problems.append(f"worker command {worker.get('command')!r} is not `restock worker`")
    if str(topics.get("restart", "no")) != "no":
        problems.append("the one-shot topics service must not restart")

    # Both restock services run the image built from deploy/Dockerfile.
    for name in ("topics", "worker"):
        build = services[name].get("build") or {}
        if not isinstance(build, Mapping) or build.get("dockerfile") != "deploy/Dockerfile":
            problems.append(f"{name} must be built from deploy/Dockerfile")
    if topics.get("image") != worker.get("image"):
        problems.append("topics and worker must run the same image")

    if "prometheus" in services and "monitoring" not in (services["prometheus"].get("profiles") or []):
        problems.append("prometheus must sit behind the monitoring profile")
    return problems


# --- Dockerfile --------------------------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        if line:
            keyword, _, args = line.partition(" ")
            out.append((keyword.upper(), args.strip()))
    return out


def _exec_form(args: str) -> list[str] | None:
    try:
        value = json.loads(args)
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def dockerfile_problems(text: str) -> list[str]:
    problems: list[str] = []
    instructions = dockerfile_instructions(text)
    global_args = {}
    for keyword, args in instructions:
        if keyword == "FROM":
            break
        if keyword == "ARG" and "=" in args:
            name, _, default = args.partition("=")
            global_args[name.strip()] = default.strip()
    froms = [i for i, (k, _) in enumerate(instructions) if k == "FROM"]
    if len(froms) < 2:
        problems.append("the Dockerfile must be multi-stage (two or more FROM)")
    for i in froms:
        image = instructions[i][1].split()[0]
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: global_args.get(m.group(1), m.group(0)), image)
        if not image.startswith("python:3.11-slim"):
            problems.append(f"base image {image!r} is not python:3.11-slim")
    if not froms:
        return problems
    final = instructions[froms[-1] :]

    users = [args for keyword, args in final if keyword == "USER"]
    if not users:
        problems.append("the final stage sets no USER (it would run as root)")
    else:
        user_args = {
            k: v
            for k, v in ((n.strip(), d.strip()) for n, _, d in (a.partition("=") for kw, a in final if kw == "ARG"))
        }
        user = re.sub(r"\$\{?(\w+)\}?", lambda m: user_args.get(m.group(1), m.group(0)), users[-1])
        name = user.split(":")[0]
        if name in {"root", "0", ""}:
            problems.append(f"USER {users[-1]} runs as root")
        elif name.isdigit() and int(name) < 1000:
            problems.append(f"USER uid {name} is a system uid; use a fixed uid >= 1000")

    entry = [_exec_form(args) for keyword, args in final if keyword == "ENTRYPOINT"]
    if not entry or entry[-1] != ["restock"]:
        problems.append('ENTRYPOINT must be the exec form ["restock"]')
    cmd = [_exec_form(args) for keyword, args in final if keyword == "CMD"]
    if not cmd or cmd[-1] != ["worker"]:
        problems.append('CMD must be ["worker"]')

    volumes = " ".join(args for keyword, args in final if keyword == "VOLUME")
    if STATE_DIR not in volumes:
        problems.append(f"VOLUME {STATE_DIR} is not declared in the final stage")
    owns_state = any(keyword == "RUN" and "chown" in args and STATE_DIR in args for keyword, args in final)
    if not owns_state:
        problems.append(f"the final stage does not chown {STATE_DIR} to the service user")

    health = [args for keyword, args in final if keyword == "HEALTHCHECK"]
    if not health or health[-1].upper().startswith("NONE"):
        problems.append("the final stage has no HEALTHCHECK")

    for keyword, args in instructions:
        lowered = args.lower()
        if keyword == "RUN":
            for step in re.split(r"&&|;|\|\|", lowered):
                if "pip install" in step and re.search(r"calfkit|\[embedded|\[dev|\s-e\s|--editable", step):
                    problems.append(f"RUN installs something production must not have: {step.strip()!r}")
                if "pip install" in step and "torch" in step and "--index-url" not in step:
                    problems.append(f"RUN installs torch without its CPU/CUDA index (pulls CUDA): {step.strip()!r}")
        if keyword == "ENV":
            names = set(re.findall(r"(?:^|\s)(RESTOCK_\w+)=", args))
            if "RESTOCK_WEB_BIND" in names:
                problems.append("RESTOCK_WEB_BIND must not be baked into the image (compose/k8s only)")
            problems += [f"Dockerfile ENV {n} is not a Settings field" for n in names - settings_env_names()]
    return problems


def dockerignore_problems(text: str) -> list[str]:
    patterns = {line.strip().rstrip("/") for line in text.splitlines() if line.strip() and line[0] != "#"}
    return [f".dockerignore does not exclude {p}" for p in (".venv", ".git", "var", "tests") if p not in patterns]


# --- Kubernetes --------------------------------------------------------------------------------------------


def load_k8s(directory: Path = K8S_DIR) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                doc.setdefault("__file__", path.name)
                docs.append(doc)
    return docs


def of_kind(docs: Iterable[Mapping[str, Any]], kind: str) -> list[Mapping[str, Any]]:
    return [d for d in docs if d.get("kind") == kind]


def container_env(container: Mapping[str, Any], configmaps: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    env: dict[str, Any] = {}
    for source in container.get("envFrom") or []:
        ref = (source.get("configMapRef") or {}).get("name")
        if ref is not None:
            env.update(configmaps.get(ref, {}))
    for item in container.get("env") or []:
        env[item["name"]] = item.get("value")
    return env


def _port_number(port: Any, container: Mapping[str, Any]) -> int | None:
    if isinstance(port, int):
        return port
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return int(p["containerPort"])
    return None


def k8s_problems(docs: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    text = "\n".join(walk_strings(docs))
    if "{{" in text:
        problems.append("k8s manifests contain template syntax; keep them plain YAML")

    configmaps = {d["metadata"]["name"]: dict(d.get("data") or {}) for d in of_kind(docs, "ConfigMap")}
    if not configmaps:
        problems.append("no ConfigMap with RESTOCK_* settings")
    for name, data in configmaps.items():
        for key in data:
            if key not in settings_env_names():
                problems.append(f"ConfigMap {name} key {key} is not a Settings field")
        problems += restock_env_problems(f"ConfigMap {name}", data)

    statefulsets = of_kind(docs, "StatefulSet")
    if len(statefulsets) != 1:
        return [*problems, f"expected one StatefulSet, found {len(statefulsets)}"]
    sts = statefulsets[0]
    spec = sts["spec"]
    pod = spec["template"]["spec"]
    pod_labels = spec["template"]["metadata"].get("labels") or {}
    claims = {c["metadata"]["name"] for c in spec.get("volumeClaimTemplates") or []}
    if not claims:
        problems.append("StatefulSet has no volumeClaimTemplates (one PVC per pod for RocksDB state)")
    if pod.get("terminationGracePeriodSeconds") != 30:
        problems.append("terminationGracePeriodSeconds must be 30")
    pod_sc = pod.get("securityContext") or {}
    if pod_sc.get("runAsNonRoot") is not True:
        problems.append("pod securityContext.runAsNonRoot must be true")
    if pod_sc.get("runAsUser") == 0:
        problems.append("pod securityContext.runAsUser is 0")

    headless = {
        d["metadata"]["name"] for d in of_kind(docs, "Service") if (d.get("spec") or {}).get("clusterIP") == "None"
    }
    if spec.get("serviceName") not in headless:
        problems.append(f"StatefulSet serviceName {spec.get('serviceName')!r} is not a headless Service")

    containers = pod.get("containers") or []
    worker = next((c for c in containers if as_argv(c.get("args") or c.get("command")) == ["worker"]), None)
    if worker is None:
        return [*problems, "no container runs `restock worker`"]
    env = container_env(worker, configmaps)
    for ref in worker.get("envFrom") or []:
        name = (ref.get("configMapRef") or {}).get("name")
        if name is not None and name not in configmaps:
            problems.append(f"envFrom names ConfigMap {name!r}, which is not defined")
    problems += restock_env_problems("worker container", env)
    sc = worker.get("securityContext") or {}
    if sc.get("runAsUser") == 0 or sc.get("privileged") or sc.get("runAsNonRoot") is False:
        problems.append("worker container securityContext allows root")
    resources = worker.get("resources") or {}
    for section in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if resource not in (resources.get(section) or {}):
                problems.append(f"worker resources.{section}.{resource} missing")

    state_dir = str(env.get("RESTOCK_STATE_DIR", ""))
    mounted = {m["mountPath"]: m["name"] for m in worker.get("volumeMounts") or []}
    if mounted.get(state_dir) not in claims:
        problems.append(f"RESTOCK_STATE_DIR {state_dir!r} is not mounted from a volumeClaimTemplate")
    if env.get("RESTOCK_WEB_BIND") != "0.0.0.0":
        problems.append("worker must set RESTOCK_WEB_BIND=0.0.0.0 in the pod")
    web_port = int(env.get("RESTOCK_WEB_PORT") or Settings.model_fields["web_port"].default)
    readiness = worker.get("readinessProbe") or {}
    probe = readiness.get("httpGet") or readiness.get("tcpSocket") or {}
    if _port_number(probe.get("port"), worker) != web_port:
        problems.append(f"readinessProbe does not target the metrics port {web_port}")
    partitions = int(env.get("RESTOCK_PARTITIONS") or Settings.model_fields["partitions"].default)
    if int(spec.get("replicas", 1)) > partitions:
        problems.append(f"replicas {spec.get('replicas')} exceed RESTOCK_PARTITIONS {partitions}")

    metrics_services = [
        d
        for d in of_kind(docs, "Service")
        if d["spec"].get("clusterIP") != "None"
        and all(pod_labels.get(k) == v for k, v in (d["spec"].get("selector") or {}).items())
        and any(_port_number(p.get("targetPort"), worker) == web_port for p in d["spec"].get("ports") or [])
    ]
    if not metrics_services:
        problems.append("no metrics Service selects the worker pods on the metrics port")

    for job in of_kind(docs, "Job"):
        job_pod = job["spec"]["template"]["spec"]
        if (job_pod.get("securityContext") or {}).get("runAsNonRoot") is not True:
            problems.append(f"Job {job['metadata']['name']} must set runAsNonRoot")
        for c in job_pod.get("containers") or []:
            problems += restock_env_problems(f"Job container {c['name']}", container_env(c, configmaps))
    return problems


# --- metrics -----------------------------------------------------------------------------------------------


def documented_metrics(markdown: str) -> set[str]:
    """Metric names in the first column of the table in deploy/metrics.md."""
    return set(re.findall(r"^\|\s*`(restock_\w+)`\s*\|", markdown, flags=re.M))


def metrics_in_expr(expr: str) -> set[str]:
    return {re.sub(r"_(bucket|sum|count)$", "", m) for m in re.findall(r"\brestock_\w+", expr)}
