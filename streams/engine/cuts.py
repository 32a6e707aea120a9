"""Decision cuts: where in the input topics a decision that wall-clock time released was taken.

A decision normally waits until every input topic of the partition has passed its boundary plus grace, and
then what it decides depends on the topics' contents alone. When a topic is idle (caught up and quiet, see
``streams.pacing``) it stops holding the decision back: the decision then depends on how far that topic had
been read. The cut records exactly that, per input topic the next offset not yet applied, on the cuts topic
before any command of the decision is published. A worker that takes the window again (after a crash, a
rebalance, or a replay that follows this app's cuts) holds each topic at the cut and decides there, so the
commands are the same bytes whatever the timing of either run.

Cut records: key ``app_id|partition|window``, value JSON, on the partition of the input partition they cut.
The first cut of a window wins (a second one can only come from a worker that did not see the first).
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from pydantic import BaseModel, ConfigDict, Field

from streams.state_codec import N_TOPICS


class DecisionCut(BaseModel):
    """One decision taken before every input topic had passed its boundary."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    app_id: str
    partition: int = Field(ge=0)
    window: int = Field(description="Decision window (day number) the cut was taken for")
    next_offsets: tuple[int, ...] = Field(
        min_length=N_TOPICS,
        max_length=N_TOPICS,
        description="Per input topic (orders, inventory, clicks): the first offset the decision did not see",
    )

    @property
    def key(self) -> bytes:
        return f"{self.app_id}|{self.partition}|{self.window}".encode()

    def encode(self) -> bytes:
        return orjson.dumps(self.model_dump())

    @classmethod
    def decode(cls, value: bytes) -> DecisionCut:
        return cls.model_validate_json(value)


def cuts_by_window(records: Iterable[bytes], app_id: str, partition: int) -> dict[int, DecisionCut]:
    """The cuts of one app and partition from the cut topic's values, first per window."""
    out: dict[int, DecisionCut] = {}
    for value in records:
        cut = DecisionCut.decode(value)
        if cut.app_id == app_id and cut.partition == partition:
            out.setdefault(cut.window, cut)
    return out
