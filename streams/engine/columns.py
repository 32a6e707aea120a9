"""The decode step of :mod:`streams.engine.decode` as columns, with a fast path that gives the same verdicts.

:func:`decode_columns` takes the arguments of :func:`~streams.engine.decode.decode_messages` and returns the
same valid events and refusals as a :class:`ColumnBatch`: the :class:`~streams.event_batch.EventBatch` the
state engine applies, built straight from the messages instead of through an ``InputEvent`` and a pydantic
model per event, plus the refused messages.

Parity by construction: the fast path only ever *accepts*. It parses an order or a click with ``orjson`` and
accepts it only when the document has the exact shape the pydantic model accepts in the common case, every
value already in the form the model would keep, the limits, the event-time bounds, the key rule and the
partition satisfied. Anything it cannot prove valid (a refusal, but also a valid event in an unusual
spelling: ``schema_version`` ``true`` or ``1.0``, a price beyond 2**53, a key that is not ``sku|location`` of
short parts...) goes through ``decode_messages`` itself (one call for all of them, in arrival order), which
gives the exact event or the exact refusal, and its row is put back in its place. Inventory events are rare
and carry many optional fields: they always take that path and are kept as validated
:class:`~schemas.InventoryEvent` objects.

What the fast path proves, against ``schemas.events`` and ``schemas.validation``:

- value: bytes, non-empty, at most ``max_message_bytes``; a JSON object (orjson and pydantic-core agree on
  duplicate keys, last wins, and orjson refuses what pydantic-core refuses, or the fast path falls back);
- keys: exactly the model's fields (all required ones present and nothing else, by count), so
  ``extra="forbid"`` cannot fire;
- ``schema_version`` the int 1; ``event_id``, ``order_id``, ``session_id`` and a present
  ``original_order_id`` str of 1-128 characters (the latter null or absent on a sale); ``channel`` 1-32;
  ``currency`` three ASCII capitals; ``quantity`` an int in 1..max_quantity; ``unit_price`` a finite float in
  [0, 1e15] or an int in [0, 2**53] (exact as a float): margins, so an integer literal beyond 64 bits, which
  both parsers turn into a float (alike, as far as tested), never takes the fast path; ``line_type`` and
  ``action`` one of the literals;
- ``event_time`` an int of epoch ms (not a bool), or a str that ``datetime.fromisoformat`` parses with an
  offset, converted exactly as ``schemas.events._parse_event_time`` and ``to_epoch_ms`` do; then
  ``earliest_event_ms <= t <= produced + max_future_ms`` and t within datetime's range;
- the message key is the UTF-8 ``sku|location`` of the payload (a click's null or missing location standing
  for ``click_default_location``), checked against the key split once per distinct key: equal parts of 1-64
  characters without ``|`` make the payload's sku and location valid key parts too, and the key's murmur2
  partition (computed once per distinct key) is the one the message arrived on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any, Final, cast

import numpy as np
import orjson
from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Message

from schemas import ClickEvent, InventoryEvent, OrderEvent, to_epoch_ms
from schemas.events import EPOCH
from schemas.validation import Rejection, ValidationLimits
from streams.engine.decode import DecodedBatch, decode_messages
from streams.event_batch import ACTION_CODE, LINE_CODE, NO_CODE, Event, EventBatch
from streams.partitioning import key_partition
from streams.state_codec import Topic

_ID_MAX = 128  # schemas.events.Identifier (and command_id)
_KEY_PART_MAX = 64  # schemas.events.KeyPart
_CHANNEL_MAX = 32  # OrderEvent.channel
_PRICE_MAX_FLOAT = 1e15
_PRICE_MAX_INT = 2**53
_CURRENCY = re.compile(r"[A-Z]{3}")  # OrderEvent.currency: ^[A-Z]{3}$ under the Rust regex engine ($ = end of text)
_DT_MIN_MS = to_epoch_ms(datetime.min.replace(tzinfo=UTC))  # EPOCH + t ms must not overflow
_DT_MAX_MS = to_epoch_ms(datetime.max.replace(tzinfo=UTC))

# The models' fields, the optional one (original_order_id, a click's location) last: a document with exactly
# the required fields, or with all of them, has no other key.
_ORDER_REQUIRED = (
    "schema_version", "event_id", "event_time", "sku", "location", "line_type", "order_id", "quantity",
    "unit_price", "currency", "channel",
)  # fmt: skip
_ORDER_FIELDS = itemgetter(*_ORDER_REQUIRED)
_ORDER_ALL_FIELDS = itemgetter(*_ORDER_REQUIRED, "original_order_id")
_CLICK_REQUIRED = ("schema_version", "event_id", "event_time", "sku", "session_id", "action")
_CLICK_FIELDS = itemgetter(*_CLICK_REQUIRED)
_CLICK_ALL_FIELDS = itemgetter(*_CLICK_REQUIRED, "location")
_N_ORDER, _N_CLICK = len(_ORDER_REQUIRED), len(_CLICK_REQUIRED)

_ONE: Final = 1  # ``version is _ONE``: CPython's cached small int, which orjson returns; anything else falls back
_NAN: Final = float("nan")
_EPOCH_ORDINAL: Final = EPOCH.toordinal()
_fromisoformat = datetime.fromisoformat
_ONE_US: Final = timedelta(microseconds=1)

# topic, offset, time_ms, key, event_id, quantity, unit_price, line_type, action: atomic values only, so the
# garbage collector untracks the row at its first pass and a big batch does not trigger full collections
_Row = tuple[int, int, int, bytes, str, float, float, int, int]

_ORDERS, _INVENTORY, _CLICKS = int(Topic.ORDERS), int(Topic.INVENTORY), int(Topic.CLICKS)  # enum members are tracked


@dataclass(slots=True)
class ColumnBatch(EventBatch):
    """The valid events of a batch as the :class:`EventBatch` the state engine applies, and the refusals.

    Row ``i`` is the ``i``-th event of ``decode_messages(...).events``: ``EventBatch.of`` of those events has
    the same columns. Inventory rows are validated :class:`InventoryEvent` objects in ``inventory``.
    """

    refused: list[tuple[Topic, Message, Rejection]] = field(default_factory=list)  # as DecodedBatch.refused
    fallbacks: int = 0  # orders and clicks the fast path could not prove valid (decoded by decode_messages)

    def event(self, row: int) -> Event:
        """The typed event of ``row``, as ``decode_messages`` would have built it (a pydantic decode)."""
        topic = int(self.topic[row])
        if topic == _INVENTORY:
            return self.inventory[row]
        model = OrderEvent if topic == _ORDERS else ClickEvent
        return model.model_validate_json(self.refs[row].value() or b"")


def decode_columns(
    messages: Iterable[Message], topic_of: Mapping[str, Topic], partition: int, partitions: int,
    limits: ValidationLimits, clock_ms: int,
) -> ColumnBatch:  # fmt: skip
    """``decode_messages`` as a :class:`ColumnBatch`: the same events and refusals, most without pydantic."""
    rows: list[_Row | None] = []  # None: a message for decode_messages, filled in (or dropped) after the loop
    refs: list[Message] = []
    slow: list[Message] = []
    fallbacks = 0
    key_parts: dict[bytes, tuple[str, ...]] = {}  # () where the fast path cannot accept the key
    currencies: set[str] = set()
    max_bytes = limits.max_message_bytes
    max_quantity = limits.max_quantity
    max_future = limits.max_future_ms
    earliest = max(limits.earliest_event_ms, _DT_MIN_MS)
    default_location = limits.click_default_location
    loads = orjson.loads

    for message in messages:
        topic = topic_of[message.topic() or ""]
        row: _Row | None = None
        if topic != _INVENTORY:
            key = message.key() or b""  # a null or empty key never matches sku|location
            value = message.value()
            parts = key_parts.get(key) if type(key) is bytes else ()
            if parts is None:
                parts = key_parts[key] = _key_parts(key, partition, partitions)
            if parts and type(value) is bytes and 0 < len(value) <= max_bytes:
                try:
                    doc = loads(value)
                except orjson.JSONDecodeError:
                    doc = None
                if type(doc) is dict:
                    kind, stamp = message.timestamp()
                    latest = (stamp if kind != TIMESTAMP_NOT_AVAILABLE and stamp > 0 else clock_ms) + max_future
                    if topic == _ORDERS:
                        row = _order(doc, parts, earliest, latest, max_quantity, currencies, message, key)
                    elif topic == _CLICKS:
                        row = _click(doc, parts, earliest, latest, default_location, message, key)
            fallbacks += row is None
        if row is None:
            slow.append(message)
        rows.append(row)
        refs.append(message)
    if not slow:
        return _batch(cast(list[_Row], rows), refs, {}, [], fallbacks)  # no None left
    decoded = decode_messages(slow, topic_of, partition, partitions, limits, clock_ms)
    return _batch(*_merge(rows, refs, decoded), decoded.refused, fallbacks)


def _merge(
    rows: list[_Row | None], refs: list[Message], decoded: DecodedBatch
) -> tuple[list[_Row], list[Message], dict[int, InventoryEvent]]:
    """Put the events ``decode_messages`` accepted of the slow messages (rows None) in place, drop the refused."""
    events = decoded.events
    inventory: dict[int, InventoryEvent] = {}
    taken = 0
    for pos, row in enumerate(rows):
        if row is not None:
            continue
        # each slow message gave one event or one refusal, in order: it is accepted iff the next event is its own
        if taken < len(events) and events[taken].ref is refs[pos]:
            item = events[taken]
            taken += 1
            event = item.event
            topic, offset, time_ms, key, event_id = int(item.topic), item.offset, item.time_ms, item.key, event.event_id
            if topic == _INVENTORY:
                rows[pos] = (topic, offset, time_ms, key, event_id, _NAN, _NAN, NO_CODE, NO_CODE)
                inventory[pos] = cast(InventoryEvent, event)
            elif isinstance(event, OrderEvent):
                code = LINE_CODE[event.line_type]
                rows[pos] = (topic, offset, time_ms, key, event_id, event.quantity, event.unit_price, code, NO_CODE)
            else:
                code = ACTION_CODE[cast(ClickEvent, event).action]
                rows[pos] = (topic, offset, time_ms, key, event_id, _NAN, _NAN, NO_CODE, code)
    if not decoded.refused:
        return cast(list[_Row], rows), refs, inventory  # every slot filled
    kept = [pos for pos, row in enumerate(rows) if row is not None]
    new_pos = {pos: i for i, pos in enumerate(kept) if pos in inventory}
    inventory = {new_pos[pos]: event for pos, event in inventory.items()}
    return [cast(_Row, rows[pos]) for pos in kept], [refs[pos] for pos in kept], inventory


def _batch(
    rows: list[_Row], refs: list[Message], inventory: dict[int, InventoryEvent],
    refused: list[tuple[Topic, Message, Rejection]], fallbacks: int,
) -> ColumnBatch:  # fmt: skip
    if not rows:
        empty = np.zeros(0, np.int64)
        return ColumnBatch(empty, empty.copy(), empty.copy(), [], [], np.zeros(0), np.zeros(0), np.zeros(0, np.int8),
                           np.zeros(0, np.int8), inventory, [], refused, fallbacks)  # fmt: skip
    topic, offset, time_ms, keys, event_ids, quantity, unit_price, line_type, action = zip(*rows, strict=True)
    return ColumnBatch(
        topic=np.array(topic, dtype=np.int64),
        offset=np.array(offset, dtype=np.int64),
        time_ms=np.array(time_ms, dtype=np.int64),
        keys=list(keys),
        event_ids=list(event_ids),
        quantity=np.array(quantity, dtype=np.float64),
        unit_price=np.array(unit_price, dtype=np.float64),
        line_type=np.array(line_type, dtype=np.int8),
        action=np.array(action, dtype=np.int8),
        inventory=inventory,
        refs=refs,
        refused=refused,
        fallbacks=fallbacks,
    )


def _key_parts(key: bytes, partition: int, partitions: int) -> tuple[str, ...]:
    """``(sku, location)`` of a key the fast path can accept on ``partition``, else ``()`` (decide slowly)."""
    try:
        parts = key.decode().split("|")
    except UnicodeDecodeError:
        return ()
    if len(parts) != 2 or key_partition(key, partitions) != partition:
        return ()
    sku, location = parts
    return (sku, location) if 0 < len(sku) <= _KEY_PART_MAX and 0 < len(location) <= _KEY_PART_MAX else ()


def _iso_ms(text: str) -> int | None:
    """``to_epoch_ms`` of what ``_parse_event_time`` makes of an ISO-8601 string; None where it has no offset.

    Integer arithmetic on the parsed fields instead of ``astimezone(UTC)`` and a timedelta floor division (the
    same instant, floored to the same millisecond, in half the time); out of datetime's range, where
    ``astimezone`` overflows, the caller's bounds refuse the result.
    """
    try:
        moment = _fromisoformat(text)
    except ValueError:
        return None
    seconds = (moment.toordinal() - _EPOCH_ORDINAL) * 86_400 + moment.hour * 3600 + moment.minute * 60 + moment.second
    if moment.tzinfo is not UTC:  # 'Z' and '+00:00' give the UTC singleton and need no utcoffset() call
        offset = moment.utcoffset()
        if offset is None:
            return None  # naive: the model refuses it
        micros = seconds * 1_000_000 + moment.microsecond - offset // _ONE_US
        return micros // 1000
    return seconds * 1000 + moment.microsecond // 1000


def _order(
    doc: dict[str, Any], parts: tuple[str, ...], earliest: int, latest: int, max_quantity: int, currencies: set[str],
    message: Message, key: bytes,
) -> _Row | None:  # fmt: skip
    """The row of a provably valid order, else None."""
    n = len(doc)
    try:  # KeyError: a required field is missing (or, by the count, another one is there); TypeError: unhashable
        if n == _N_ORDER:
            version, event_id, when, sku, location, line_type, order_id, quantity, price, currency, channel = (
                _ORDER_FIELDS(doc)
            )
            orig = None
        elif n == _N_ORDER + 1:
            version, event_id, when, sku, location, line_type, order_id, quantity, price, currency, channel, orig = (
                _ORDER_ALL_FIELDS(doc)
            )
        else:
            return None
        code = LINE_CODE.get(line_type)
        if currency not in currencies:
            if type(currency) is not str or _CURRENCY.fullmatch(currency) is None:
                return None
            currencies.add(currency)
    except (KeyError, TypeError):
        return None
    if (
        code is None
        or version is not _ONE
        or sku != parts[0]
        or location != parts[1]
        or type(event_id) is not str
        or not 0 < len(event_id) <= _ID_MAX
        or type(order_id) is not str
        or not 0 < len(order_id) <= _ID_MAX
        or type(quantity) is not int
        or not 0 < quantity <= max_quantity
        or type(channel) is not str
        or not 0 < len(channel) <= _CHANNEL_MAX
    ):
        return None
    if orig is not None and (code == 0 or type(orig) is not str or not 0 < len(orig) <= _ID_MAX):
        return None  # a sale has no original order; a cancellation or return may name one
    if type(price) is float:
        if not 0.0 <= price <= _PRICE_MAX_FLOAT:  # NaN and inf fail too
            return None
    elif type(price) is int and 0 <= price <= _PRICE_MAX_INT:
        price = float(price)
    else:
        return None
    ms = when if type(when) is int else _iso_ms(when) if type(when) is str else None
    if ms is None or not earliest <= ms <= latest or ms > _DT_MAX_MS:
        return None
    return (_ORDERS, int(message.offset() or 0), ms, key, event_id, quantity, price, code, NO_CODE)


def _click(
    doc: dict[str, Any], parts: tuple[str, ...], earliest: int, latest: int, default_location: str, message: Message,
    key: bytes,
) -> _Row | None:  # fmt: skip
    """The row of a provably valid click, else None."""
    n = len(doc)
    try:  # as in _order
        if n == _N_CLICK:
            version, event_id, when, sku, session_id, action = _CLICK_FIELDS(doc)
            location = None
        elif n == _N_CLICK + 1:
            version, event_id, when, sku, session_id, action, location = _CLICK_ALL_FIELDS(doc)
        else:
            return None
        code = ACTION_CODE.get(action)
    except (KeyError, TypeError):
        return None
    if (
        code is None
        or version is not _ONE
        or sku != parts[0]
        or parts[1] != (default_location if location is None else location)  # equal to the key's part: valid
        or type(event_id) is not str
        or not 0 < len(event_id) <= _ID_MAX
        or type(session_id) is not str
        or not 0 < len(session_id) <= _ID_MAX
    ):
        return None
    ms = when if type(when) is int else _iso_ms(when) if type(when) is str else None
    if ms is None or not earliest <= ms <= latest or ms > _DT_MAX_MS:
        return None
    return (_CLICKS, int(message.offset() or 0), ms, key, event_id, _NAN, _NAN, NO_CODE, code)
