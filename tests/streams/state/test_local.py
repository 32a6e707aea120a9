"""One suite for both LocalState twins, plus what only RocksDB can show: reopening, destroying, surviving kill -9."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.state import Checkpoint, LocalState, MemoryLocalState, RocksLocalState

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(params=["rocks", "memory"])
def local(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalState]:
    state: LocalState = RocksLocalState(tmp_path / "state") if request.param == "rocks" else MemoryLocalState()
    yield state
    state.close()


def test_a_new_state_is_empty_and_has_no_checkpoint(local: LocalState) -> None:
    assert local.checkpoint() is None
    assert local.get(b"a") is None
    assert list(local.items()) == []


def test_write_applies_puts_and_deletes_in_order_with_the_checkpoint(local: LocalState) -> None:
    local.write([(b"a", b"1"), (b"b", b"2"), (b"a", None), (b"c", b"3"), (b"b", b"4")], Checkpoint(5))
    assert (local.get(b"a"), local.get(b"b"), local.get(b"c")) == (None, b"4", b"3")
    assert local.checkpoint() == Checkpoint(5)
    local.write([(b"c", None), (b"d", b""), (b"missing", None)], Checkpoint(9))
    assert local.get(b"d") == b"", "an empty value is a value, not a delete"
    assert list(local.items()) == [(b"b", b"4"), (b"d", b"")]
    assert local.checkpoint() == Checkpoint(9)


def test_items_are_sorted_by_key_bytes(local: LocalState) -> None:
    keys = [b"b", b"\xff", b"a\x00", b"", b"\x00", b"a", b"\x01z", b"p010/s0001", b"p002/s0100", b"\x7f"]
    local.write([(key, key + b"!") for key in keys], Checkpoint(1))
    assert list(local.items()) == [(key, key + b"!") for key in sorted(keys)]


def test_the_checkpoint_is_not_a_user_key_whatever_the_key(local: LocalState) -> None:
    lookalikes = [b"", b"\x00", b"\x00checkpoint", b"checkpoint", b"\x01", b"\x01\x00checkpoint"]
    local.write([(key, b"\xff" * 8) for key in lookalikes], Checkpoint(7))
    assert local.checkpoint() == Checkpoint(7)
    assert sorted(key for key, _ in local.items()) == sorted(lookalikes)
    local.write([(key, None) for key in lookalikes], Checkpoint(8))
    assert list(local.items()) == [] and local.checkpoint() == Checkpoint(8)


@pytest.mark.parametrize(
    "bad",
    [[(b"a", b"2"), (b"b", b"3"), (b"c", "text")], [(b"a", b"2"), ("b", b"3")], [(b"a", b"2"), (b"b", bytearray(1))]],
    ids=["str value", "str key", "bytearray value"],
)
def test_a_write_that_fails_part_way_leaves_nothing(local: LocalState, bad: list) -> None:
    local.write([(b"a", b"1")], Checkpoint(1))
    with pytest.raises(TypeError, match="keys must be bytes"):
        local.write(bad, Checkpoint(2))
    assert local.get(b"a") == b"1" and local.get(b"b") is None
    assert local.checkpoint() == Checkpoint(1)


@pytest.mark.parametrize("offset", [-1, 1 << 63])
def test_a_checkpoint_is_a_kafka_offset(offset: int) -> None:
    with pytest.raises(ValueError, match="not a Kafka offset"):
        Checkpoint(offset)


BATCHES = st.lists(
    st.lists(st.tuples(st.binary(max_size=3), st.one_of(st.none(), st.binary(max_size=20))), max_size=12),
    max_size=5,
)


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(["rocks", "memory"]), batches=BATCHES)
def test_both_twins_behave_like_a_dict(kind: str, batches: list[list[tuple[bytes, bytes | None]]]) -> None:
    with tempfile.TemporaryDirectory() as root:
        state: LocalState = RocksLocalState(Path(root) / "s") if kind == "rocks" else MemoryLocalState()
        model: dict[bytes, bytes] = {}
        for offset, writes in enumerate(batches):
            state.write(writes, Checkpoint(offset))
            for key, value in writes:
                if value is None:
                    model.pop(key, None)
                else:
                    model[key] = value
        assert list(state.items()) == sorted(model.items())
        assert all(state.get(key) == value for key, value in model.items())
        assert state.checkpoint() == (Checkpoint(len(batches) - 1) if batches else None)
        state.close()


def test_rocks_state_is_the_same_after_reopening(tmp_path: Path) -> None:
    big = bytes(range(256)) * 20_000  # 5 MB: beyond one memtable write
    state = RocksLocalState(tmp_path / "state")
    state.write([(b"a", b"1"), (b"big", big), (b"gone", b"x")], Checkpoint(3))
    state.write([(b"gone", None)], Checkpoint(4))
    state.close()
    reopened = RocksLocalState(tmp_path / "state")
    assert list(reopened.items()) == [(b"a", b"1"), (b"big", big)]
    assert reopened.checkpoint() == Checkpoint(4)
    reopened.close()


def test_destroy_refuses_an_open_state_then_removes_it(tmp_path: Path) -> None:
    path = tmp_path / "state"
    state = RocksLocalState(path)
    state.write([(b"a", b"1")], Checkpoint(1))
    with pytest.raises(Exception, match="lock"):
        RocksLocalState.destroy(path)
    assert state.get(b"a") == b"1"
    state.close()
    (path / "stray.txt").write_text("not RocksDB's")
    RocksLocalState.destroy(path)
    assert not path.exists()
    RocksLocalState.destroy(path)  # nothing there: nothing to do
    fresh = RocksLocalState(path)
    assert fresh.checkpoint() is None and list(fresh.items()) == []
    fresh.close()


WRITER = """
import sys
from pathlib import Path
from streams.state import Checkpoint, RocksLocalState

state = RocksLocalState(Path(sys.argv[1]))
for i in range(1_000_000):
    value = i.to_bytes(8, "big") * 25_000  # 200 kB, so that the kill often lands inside a write
    state.write([(b"a", value), (b"b", value), (b"n", i.to_bytes(8, "big"))], Checkpoint(i + 1))
    print(i, flush=True)
"""


def test_rocks_state_after_kill_9_holds_every_acknowledged_write_and_no_partial_one(tmp_path: Path) -> None:
    path = tmp_path / "state"
    command = [sys.executable, "-c", WRITER, str(path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPO) as writer:
        assert writer.stdout is not None
        acknowledged = -1
        for line in writer.stdout:
            acknowledged = int(line)
            if acknowledged == 40:
                break
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert acknowledged == 40, "the writer died before writing 40 batches"
    assert writer.returncode == -signal.SIGKILL
    state = RocksLocalState(path)
    checkpoint = state.checkpoint()
    assert checkpoint is not None and checkpoint.changelog_offset > acknowledged
    last = checkpoint.changelog_offset - 1
    assert state.get(b"n") == last.to_bytes(8, "big")
    assert state.get(b"a") == state.get(b"b") == last.to_bytes(8, "big") * 25_000
    state.close()
