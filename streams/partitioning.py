"""Which partition a key belongs to: Kafka's murmur2 placement, the one Java clients, aiokafka and Faust use.

Co-partitioning is what lets one worker see a key's orders, inventory and clicks together, so every
producer must place keys the same way. librdkafka's default (``consistent_random``, CRC32) does not, which is
why restock's producers set ``partitioner=murmur2_random`` and the worker refuses a record that arrived on
another partition than its key's (``wrong_partition``) instead of applying it to split state.
"""

from __future__ import annotations

from confluent_kafka import murmur2

MURMUR2_PRODUCER_CONFIG = {"partitioner": "murmur2_random"}
"""librdkafka's setting for Java-compatible placement (a null key goes to a random partition)."""


def key_partition(key: bytes, partitions: int) -> int:
    """The partition Java's default partitioner gives ``key`` among ``partitions``."""
    return int(murmur2(key, partitions))


def wrong_partition_detail(key: bytes, arrived: int, partitions: int) -> str:
    shown = key[:80].decode("utf-8", "replace")
    return (
        f"key {shown!r} belongs to partition {key_partition(key, partitions)} of {partitions} under Kafka's murmur2 "
        f"partitioner (Java clients, aiokafka, Faust) but arrived on partition {arrived}; its other events are "
        "applied there, so this one is not: produce with a murmur2 partitioner (librdkafka / confluent-kafka: "
        "partitioner=murmur2_random) and re-publish it"
    )
