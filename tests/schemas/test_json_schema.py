from __future__ import annotations

from pathlib import Path

import orjson

from schemas.json_schema import CONTRACTS, JSON_DIR, schema_documents, write_schemas


def test_committed_schemas_match_the_models() -> None:
    """Fails when a model changed without `python -m schemas.json_schema` being run."""
    for file_name, text in schema_documents().items():
        committed = JSON_DIR / file_name
        assert committed.is_file(), f"{committed} is missing; run python -m schemas.json_schema"
        assert committed.read_bytes() == text, f"{committed} is stale; run python -m schemas.json_schema"


def test_no_stray_schema_files() -> None:
    assert {path.name for path in JSON_DIR.glob("*.json")} == set(schema_documents())


def test_every_contract_has_a_document() -> None:
    assert set(schema_documents()) == {f"{name}.schema.json" for name in CONTRACTS}


def test_documents_are_sorted_indented_and_end_with_a_newline() -> None:
    for text in schema_documents().values():
        document = orjson.loads(text)
        assert list(document) == sorted(document)
        assert text.endswith(b"}\n")
        assert b'\n  "' in text


def test_event_time_accepts_strings_and_epoch_milliseconds() -> None:
    order = orjson.loads(schema_documents()["order_event.schema.json"])
    assert [option["type"] for option in order["properties"]["event_time"]["anyOf"]] == ["string", "integer"]
    assert order["additionalProperties"] is False


def test_outbound_documents_require_every_field() -> None:
    command = orjson.loads(schema_documents()["reorder_command.schema.json"])
    assert set(command["required"]) == set(command["properties"])


def test_write_schemas(tmp_path: Path) -> None:
    written = write_schemas(tmp_path / "json")
    assert {path.name for path in written} == set(schema_documents())
    assert all(path.read_bytes() == schema_documents()[path.name] for path in written)
