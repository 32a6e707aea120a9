"""JSON Schema documents of every restock contract, for producers and consumers outside Python.

The documents are committed under ``schemas/json/`` and a test fails when a model changes without
regenerating them: run ``python -m schemas.json_schema``. Inbound events are described as accepted
(validation mode), outbound records as written (serialization mode).
"""

from __future__ import annotations

from pathlib import Path

import orjson
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from schemas.commands import ReorderCommand
from schemas.dead_letter import DeadLetter
from schemas.events import ClickEvent, InventoryEvent, OrderEvent

JSON_DIR = Path(__file__).parent / "json"
_DIALECT = "https://json-schema.org/draft/2020-12/schema"

CONTRACTS: dict[str, tuple[type[BaseModel], JsonSchemaMode]] = {
    "order_event": (OrderEvent, "validation"),
    "inventory_event": (InventoryEvent, "validation"),
    "click_event": (ClickEvent, "validation"),
    "reorder_command": (ReorderCommand, "serialization"),
    "dead_letter": (DeadLetter, "serialization"),
}


def schema_documents() -> dict[str, bytes]:
    """File name -> document: sorted keys, two-space indent and a trailing newline, for clean diffs."""
    documents = {}
    for name, (model, mode) in CONTRACTS.items():
        schema = {"$schema": _DIALECT, **model.model_json_schema(mode=mode)}
        text = orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
        documents[f"{name}.schema.json"] = text
    return documents


def write_schemas(directory: Path = JSON_DIR) -> list[Path]:
    """Write every document into ``directory`` and return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, text in schema_documents().items():
        path = directory / file_name
        path.write_bytes(text)
        written.append(path)
    return written


def main() -> None:
    for path in write_schemas():
        print(path)


if __name__ == "__main__":
    main()
