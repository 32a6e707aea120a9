"""How topic creation failures are classified: a broker that is not answering properly is retried by the
worker (``BrokerUnreachableError``); a refusal is an error at once."""

from __future__ import annotations

from concurrent.futures import Future

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import NewTopic

from streams import admin
from streams.errors import BrokerError, BrokerUnreachableError
from streams.settings import Settings


class RefusingAdmin:
    def __init__(self, code: int) -> None:
        self.code = code

    def create_topics(self, topics: list[NewTopic], operation_timeout: float) -> dict[str, Future[None]]:
        out: dict[str, Future[None]] = {}
        for topic in topics:
            future: Future[None] = Future()
            future.set_exception(KafkaException(KafkaError(self.code)))
            out[topic.topic] = future
        return out


@pytest.mark.parametrize(
    ("code", "unreachable"),
    [
        (KafkaError._BAD_MSG, True),  # seen after a broker froze: an unparsable CreateTopics reply
        (KafkaError._TIMED_OUT, True),
        (KafkaError._TRANSPORT, True),
        (KafkaError.REQUEST_TIMED_OUT, True),
        (KafkaError.POLICY_VIOLATION, False),
        (KafkaError.INVALID_REPLICATION_FACTOR, False),
    ],
)
def test_a_broker_not_answering_is_retryable_and_a_refusal_is_not(
    monkeypatch: pytest.MonkeyPatch, code: int, unreachable: bool
) -> None:
    monkeypatch.setattr(admin, "admin_client", lambda bootstrap: RefusingAdmin(code))
    with pytest.raises(BrokerError) as raised:
        admin.create_topics(Settings(), "127.0.0.1:1")
    assert isinstance(raised.value, BrokerUnreachableError) is unreachable
    assert "could not create topic 'restock.orders'" in str(raised.value)
