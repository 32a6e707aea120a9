from __future__ import annotations

import pytest
from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from schemas import DlqReason, decode_dead_letter
from streams.dead_letters import dead_letter_record
from streams.embedded_broker import free_loopback_port
from streams.errors import BrokerError
from streams.partitioning import key_partition, wrong_partition_detail
from streams.publish import publish
from streams.sample_events import OutboundMessage
from streams.settings import Settings


@given(st.binary(min_size=1, max_size=200), st.integers(1, 64))
def test_placement_matches_the_java_default_partitioner(key: bytes, partitions: int) -> None:
    everyone = list(range(partitions))
    assert key_partition(key, partitions) == DefaultPartitioner()(key, everyone, everyone)


def test_the_detail_names_both_partitions_and_the_remedy() -> None:
    right = key_partition(b"A|L1", 4)
    detail = wrong_partition_detail(b"A|L1", (right + 1) % 4, 4)
    assert f"belongs to partition {right} of 4" in detail and "murmur2_random" in detail


def test_a_dead_letter_of_a_huge_key_and_value_fits_the_topic() -> None:
    key, value = dead_letter_record(
        "app", ("restock.orders", 0, 7), b"k" * 1_000_000, b"v" * 2_000_000, DlqReason.OVERSIZED, "too big", None,
        256 * 1024,
    )  # fmt: skip
    assert key is not None and len(key) == 64 and len(value) < 2_000
    letter = decode_dead_letter(value)
    assert (letter.offset, letter.value_size, letter.key_size) == (7, 2_000_000, 1_000_000)


def test_publishing_to_a_dead_broker_fails_instead_of_reporting_success() -> None:
    dead = f"127.0.0.1:{free_loopback_port()}"
    with pytest.raises(BrokerError, match="1 of 1 messages were still undelivered"):
        publish([OutboundMessage("orders", b"A|L1", b"{}", 0)], Settings(), dead, flush_timeout_s=2)
