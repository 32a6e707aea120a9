"""Topic administration with confluent-kafka's AdminClient: create and describe the topics restock uses."""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from streams.errors import BrokerError, BrokerUnreachableError
from streams.settings import Settings

KEEP_FOREVER = {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"}


@dataclass(frozen=True)
class TopicInfo:
    name: str
    partitions: int
    exists: bool


def admin_client(bootstrap_servers: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap_servers, "socket.timeout.ms": 10_000})


BUSY_BROKER = (KafkaError.REQUEST_TIMED_OUT, KafkaError.NOT_CONTROLLER, KafkaError.LEADER_NOT_AVAILABLE)


def create_topics(settings: Settings, bootstrap_servers: str, timeout_s: float = 30.0) -> list[str]:
    """Create every topic in ``settings`` that does not exist yet; return the names created.

    Input, output, dead-letter, cut and changelog topics share one partition count so that keys are
    co-partitioned with the state. The cut and changelog topics keep every record: a restore or a replay reads
    them from the start, and the changelog's parts share keys, so neither may be compacted or expire.
    """
    client = admin_client(bootstrap_servers)
    kept = {settings.topic_cuts, settings.topic_changelog}
    new = [
        NewTopic(
            name, num_partitions=settings.partitions, replication_factor=settings.replication_factor,
            config=KEEP_FOREVER if name in kept else {},
        )
        for name in settings.all_topics
    ]  # fmt: skip
    created: list[str] = []
    for name, future in client.create_topics(new, operation_timeout=timeout_s).items():
        try:
            future.result(timeout=timeout_s)
            created.append(name)
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue
            # client-side codes are negative (timeouts, transport, an unparsable reply); the broker's own
            # "try again" codes are not always flagged retriable
            if error.retriable() or error.code() < 0 or error.code() in BUSY_BROKER:
                raise BrokerUnreachableError(f"could not create topic {name!r}: {error.str()}") from exc
            raise BrokerError(f"could not create topic {name!r}: {error.str()}") from exc
    mismatched = [
        f"{info.name} has {info.partitions}"
        for info in describe_topics(settings, bootstrap_servers, timeout_s)
        if info.exists and info.partitions != settings.partitions
    ]
    if mismatched:
        raise BrokerError(
            f"existing topics do not have RESTOCK_PARTITIONS={settings.partitions} partitions "
            f"({'; '.join(mismatched)}); keys would not be co-partitioned with the state: "
            "recreate them or set the matching count"
        )
    return created


def describe_topics(settings: Settings, bootstrap_servers: str, timeout_s: float = 10.0) -> list[TopicInfo]:
    """Partition counts of restock's topics as the broker reports them."""
    try:
        metadata = admin_client(bootstrap_servers).list_topics(timeout=timeout_s)
    except KafkaException as exc:
        raise BrokerUnreachableError(f"cannot reach Kafka at {bootstrap_servers}: {exc.args[0].str()}") from exc
    out = []
    for name in settings.all_topics:
        topic = metadata.topics.get(name)
        exists = topic is not None and topic.error is None
        out.append(TopicInfo(name, len(topic.partitions) if exists and topic else 0, exists))
    return out
