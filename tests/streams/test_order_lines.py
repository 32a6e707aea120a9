from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pandas as pd
import pytest

from streams.order_lines import (
    ONLINE_RETAIL,
    ONLINE_RETAIL_NON_MERCHANDISE,
    PRESETS,
    OrderLineColumns,
    OrderLinesError,
    daily_demand_from_order_lines,
    order_events_from_frame,
    read_order_lines,
    replay_order_lines,
)

ONLINE_RETAIL_FILE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "online_retail" / "orders.parquet"

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
ROWS = [
    "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom",  # 0 sale
    "536365,71053,LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom",  # 1 sale
    "536365,71053,LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom",  # 2 sale, exact duplicate of 1
    "C536379,85123A,HEART,-2,2010-12-01 09:41:00,2.55,17850,United Kingdom",  # 3 cancellation
    "536380,22139,RETROSPOT,-20,2010-12-01 10:00:00,0,,United Kingdom",  # 4 write-off
    "536381,22423,CAKESTAND,0,2010-12-01 10:05:00,12.75,,United Kingdom",  # 5 zero quantity
    "536382,POST,POSTAGE,1,2010-12-01 11:00:00,18.0,12583,France",  # 6 non-merchandise
    "536383,84029G,BOTTLE,,2010-12-01 11:30:00,3.39,,United Kingdom",  # 7 missing quantity
    "536384,22633,WARMER,12,not a date,1.85,,United Kingdom",  # 8 unparseable time
    "541431,23166,JAR,74215,2011-01-18 10:01:00,1.04,12346,United Kingdom",  # 9 sale, absurd
    "C541433,23166,JAR,-74215,2011-01-18 10:17:00,1.04,12346,United Kingdom",  # 10 cancellation, absurd
    "536385,22752,BOXES,2,2011-06-01 10:00:00,0,,United Kingdom",  # 11 sale, zero price, BST
    "A563186,X1,Adjust bad debt,1,2011-08-12 14:51:00,-11062.06,,United Kingdom",  # 12 negative price
    "536386,21730,HOLDER,2.5,2010-12-01 12:00:00,4.25,,United Kingdom",  # 13 non-integer quantity
    "536370,22728,ALARM,24,2010-12-01 08:45:00,3.75,12583,France",  # 14 sale, earlier than row 3
    ",22727,ALARM,24,2010-12-01 08:45:00,3.75,,France",  # 15 missing order id
    "536390,22111,SCOTTIE,1,2010-10-31 01:30:00,4.95,,United Kingdom",  # 16 sale, ambiguous local hour
]


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


@pytest.fixture
def handmade(tmp_path: Path) -> Path:
    path = tmp_path / "lines.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n")
    return path


def test_every_category_counted(handmade: Path) -> None:
    replay = replay_order_lines(handmade, ONLINE_RETAIL)
    summary = replay.summary
    assert summary.as_dict() == {
        "rows_read": 17,
        "emitted": 9,
        "sales": 7,
        "cancellations": 2,
        "skipped_missing": 4,
        "skipped_excluded_sku": 1,
        "skipped_zero_quantity": 1,
        "skipped_negative_price": 1,
        "skipped_write_offs": 1,
        "zero_price": 1,
        "absurd_quantity": 2,
        "duplicate_rows": 1,
    }
    assert summary.missing_rows == (7, 8, 13, 15)
    assert summary.emitted + summary.skipped == summary.rows_read
    messages = list(replay.messages)
    assert len(messages) == summary.emitted
    payloads = [orjson.loads(m.value) for m in messages]
    assert [p["order_id"] for p in payloads] == [
        "536390",
        "536365",
        "536365",
        "536365",
        "536370",
        "C536379",
        "541431",
        "C541433",
        "536385",
    ]
    times = [m.event_time_ms for m in messages]
    assert times == sorted(times)
    for message, payload in zip(messages, payloads, strict=True):
        assert message.topic_kind == "orders"
        assert message.key == f"{payload['sku']}|UK".encode()
        assert payload["event_time"] == message.event_time_ms
        assert payload["quantity"] > 0
        assert payload["original_order_id"] is None
        assert (payload["schema_version"], payload["currency"], payload["channel"]) == (1, "GBP", "online")
        assert payload["line_type"] == ("cancellation" if payload["order_id"].startswith("C") else "sale")
    by_order = {p["order_id"]: p for p in payloads}
    assert by_order["C536379"]["quantity"] == 2
    assert by_order["541431"]["quantity"] == 74215  # passed on: the worker's DLQ takes it
    assert by_order["536385"]["unit_price"] == 0.0
    # London local time: GMT in December, BST in June, the repeated autumn hour read as GMT
    assert by_order["536365"]["event_time"] == _ms("2010-12-01T08:26:00")
    assert by_order["536385"]["event_time"] == _ms("2011-06-01T09:00:00")
    assert by_order["536390"]["event_time"] == _ms("2010-10-31T01:30:00")
    # the exact duplicate row repeats the event id; everything else is unique
    ids = Counter(p["event_id"] for p in payloads)
    assert [count for count in ids.values() if count > 1] == [2]
    assert all(len(i) <= 128 for i in ids)


def test_same_file_same_bytes(handmade: Path) -> None:
    first = list(replay_order_lines(handmade, ONLINE_RETAIL).messages)
    assert first == list(replay_order_lines(handmade, ONLINE_RETAIL).messages)


def test_options_without_preset(handmade: Path) -> None:
    columns = OrderLineColumns(
        order_id="InvoiceNo",
        sku="StockCode",
        quantity="Quantity",
        time="InvoiceDate",
        price="UnitPrice",
        location_column="Country",
        currency="EUR",
        channel="shop",
    )
    replay = replay_order_lines(handmade, columns)
    # no cancel prefix: C lines are negative-quantity write-offs; no exclusions: POST is a sale
    assert replay.summary.cancellations == 0
    assert replay.summary.skipped_write_offs == 3
    assert replay.summary.skipped_excluded_sku == 0
    assert replay.summary.emitted + replay.summary.skipped == 17
    keys = {m.key for m in replay.messages}
    assert b"POST|France" in keys and b"85123A|United Kingdom" in keys
    # naive times read as UTC by default
    first = next(iter(replay_order_lines(handmade, columns).messages))
    assert first.event_time_ms == _ms("2010-10-31T01:30:00")


def test_missing_column_named(handmade: Path) -> None:
    columns = OrderLineColumns(
        order_id="Invoice", sku="StockCode", quantity="Quantity", time="InvoiceDate", price="UnitPrice"
    )
    with pytest.raises(OrderLinesError, match="'Invoice' \\(mapped to order_id\\)"):
        replay_order_lines(handmade, columns)
    with pytest.raises(OrderLinesError, match="'Store'"):
        replay_order_lines(
            handmade, OrderLineColumns(**{**columns.__dict__, "order_id": "InvoiceNo", "location_column": "Store"})
        )
    with pytest.raises(FileNotFoundError):
        replay_order_lines(handmade.with_name("absent.csv"))
    with pytest.raises(OrderLinesError, match="currency"):
        OrderLineColumns(order_id="a", sku="b", quantity="c", time="d", price="e", currency="gbp")


def test_typed_frame_with_offsets(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "order": pd.Categorical(["o2", "o1", "o3"]),
            "sku": ["A", "B", "A"],
            "qty": [3, 1, 2],
            "at": pd.to_datetime(["2024-07-01T11:00:00", "2024-07-01T09:00:00", "2024-07-02T01:30:00"]).tz_localize(
                "Europe/Paris"
            ),
            "price": [1.5, 2.0, 0.0],
            "store": ["S1", "S1", "S2"],
        }
    )
    columns = OrderLineColumns(
        order_id="order", sku="sku", quantity="qty", time="at", price="price", location_column="store"
    )
    frame.to_parquet(tmp_path / "lines.parquet")
    for replay in (order_events_from_frame(frame, columns), replay_order_lines(tmp_path / "lines.parquet", columns)):
        messages = list(replay.messages)
        assert [m.event_time_ms for m in messages] == [
            _ms("2024-07-01T07:00:00"),
            _ms("2024-07-01T09:00:00"),
            _ms("2024-07-01T23:30:00"),
        ]
        assert [m.key for m in messages] == [b"B|S1", b"A|S1", b"A|S2"]
    # text times: offsets honoured per value, naive values read in the configured time zone
    text = frame.assign(at=["2024-07-01T12:00:00+03:00", "2024-07-01 10:00", "2024-07-01T23:30:00Z"])
    london = OrderLineColumns(**{**columns.__dict__, "timezone": "Europe/London"})
    assert [m.event_time_ms for m in order_events_from_frame(text, london).messages] == [
        _ms("2024-07-01T09:00:00"),
        _ms("2024-07-01T09:00:00"),
        _ms("2024-07-01T23:30:00"),
    ]
    daily = daily_demand_from_order_lines(frame, columns)
    assert daily.to_dict("list") == {
        "id": ["A|S1", "A|S2", "B|S1"],
        "date": [date(2024, 7, 1)] * 3,
        "quantity": [3, 2, 1],
        "price": [1.5, 0.0, 2.0],
    }


def test_preset() -> None:
    assert PRESETS["online-retail"] is ONLINE_RETAIL
    assert {"POST", "D", "M", "DOT", "BANK CHARGES", "AMAZONFEE", "CRUK", "C2", "PADS", "S", "B"} <= (
        ONLINE_RETAIL_NON_MERCHANDISE
    )
    assert ONLINE_RETAIL.timezone == "Europe/London" and ONLINE_RETAIL.cancel_prefix == "C"


def test_daily_demand_hand_computed(handmade: Path) -> None:
    frame = read_order_lines(handmade)
    daily = daily_demand_from_order_lines(frame, ONLINE_RETAIL)
    assert list(daily.columns) == ["id", "date", "quantity", "price"]
    expected = pd.DataFrame(
        {
            "id": ["22111|UK", "22728|UK", "22752|UK", "71053|UK", "85123A|UK"],
            "date": [date(2010, 10, 31), date(2010, 12, 1), date(2011, 6, 1), date(2010, 12, 1), date(2010, 12, 1)],
            "quantity": [1, 24, 2, 6, 6],
            "price": [4.95, 3.75, 0.0, 3.39, 2.55],
        }
    ).astype({"quantity": "int64"})
    pd.testing.assert_frame_equal(daily, expected)
    plain = daily_demand_from_order_lines(frame, ONLINE_RETAIL, drop_duplicates=False, drop_absurd=False)
    as_dict = {(r.id, r.date): r.quantity for r in plain.itertuples()}
    assert as_dict[("71053|UK", date(2010, 12, 1))] == 12
    assert as_dict[("23166|UK", date(2011, 1, 18))] == 74215
    priced = {(r.id, r.date): r.price for r in plain.itertuples()}
    assert priced[("71053|UK", date(2010, 12, 1))] == pytest.approx(3.39)


def test_daily_price_is_weighted_by_quantity(handmade: Path) -> None:
    frame = read_order_lines(handmade)
    frame.loc[2, "UnitPrice"] = 1.0  # the duplicate line of 71053 now sells 6 more units at another price
    daily = daily_demand_from_order_lines(frame, ONLINE_RETAIL)
    row = daily[daily["id"] == "71053|UK"].iloc[0]
    assert row.quantity == 12 and row.price == pytest.approx((6 * 3.39 + 6 * 1.0) / 12)


realdata = pytest.mark.skipif(
    not ONLINE_RETAIL_FILE.is_file(),
    reason=f"Online Retail data not found at {ONLINE_RETAIL_FILE} (needs ../shared/data next to the repo)",
)


@pytest.mark.realdata
@realdata
def test_real_file_first_rows() -> None:
    rows = 5000
    replay = replay_order_lines(ONLINE_RETAIL_FILE, ONLINE_RETAIL, nrows=rows)
    summary = replay.summary
    messages = list(replay.messages)
    assert summary.rows_read == rows
    assert len(messages) == summary.emitted
    assert summary.emitted + summary.skipped == rows
    assert summary.cancellations > 0 and summary.skipped_excluded_sku > 0
    times = [m.event_time_ms for m in messages]
    assert times == sorted(times)
    ids = Counter(orjson.loads(m.value)["event_id"] for m in messages)
    assert sum(c - 1 for c in ids.values()) == summary.duplicate_rows
    first = orjson.loads(messages[0].value)
    assert (first["order_id"], first["sku"], first["quantity"]) == ("536365", "85123A", 6)
    assert first["event_time"] == _ms("2010-12-01T08:26:00")


@pytest.mark.realdata
@realdata
def test_real_daily_demand_by_hand() -> None:
    frame = read_order_lines(ONLINE_RETAIL_FILE, nrows=5000)
    daily = daily_demand_from_order_lines(frame, ONLINE_RETAIL)
    skus = ["85123A", "22423", "84879"]
    expected: dict[tuple[str, date], int] = defaultdict(int)
    seen: set[tuple[object, ...]] = set()
    for row in frame.itertuples(index=False):
        content = tuple(row)
        duplicate = content in seen
        seen.add(content)
        sale = not str(row.InvoiceNo).startswith("C") and row.Quantity > 0
        if str(row.StockCode) in skus and sale and not duplicate:
            expected[(f"{row.StockCode}|UK", row.InvoiceDate.date())] += int(row.Quantity)
    got = {(r.id, r.date): r.quantity for r in daily.itertuples() if r.id.split("|")[0] in skus}
    assert expected and got == dict(expected)


@pytest.mark.realdata
@realdata
def test_real_file_summary() -> None:
    summary = replay_order_lines(ONLINE_RETAIL_FILE, ONLINE_RETAIL).summary
    assert summary.rows_read == 461_207
    assert summary.emitted + summary.skipped == summary.rows_read
    assert summary.skipped_missing == 0
    assert summary.skipped_write_offs == 1_214
    assert summary.absurd_quantity == 2  # the 74,215-unit order and its cancellation
    assert summary.skipped_negative_price == 0  # the A invoices are code B, excluded
    assert summary.duplicate_rows <= 4_067
