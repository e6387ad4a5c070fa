"""The InfluxDB schema declared in server/application/schema.py is the one docs/contract.md
promises, and what ingest writes keeps to it."""

import re
from pathlib import Path

import orjson
from yizhan.server.application.ingest import Ingest
from yizhan.server.application.schema import SCHEMA, Measurement
from yizhan.server.domain.alerts import AlertEngine

from tests.unit.fakes import T0, FakeClock, fleet_with

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "contract.md"


def contract_rows() -> dict[str, tuple[set[str], str]]:
    """measurement → (tags named in its row, the fields cell) from the contract's schema table."""
    text = CONTRACT.read_text(encoding="utf-8")
    table = text[text.index("| measurement | one point per | tags | fields |") :].split("\n\n")[0]
    rows: dict[str, tuple[set[str], str]] = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        tags = set(re.findall(r"`(\w+)`", cells[2])) - {m.value for m in Measurement}  # "`type` on `other`"
        for name in re.findall(r"`(\w+)`", cells[0]):
            rows[name] = (tags, cells[3])
    return rows


def test_the_contract_and_the_code_declare_the_same_measurements_tags_and_fields() -> None:
    rows = contract_rows()
    assert set(rows) == {m.value for m in Measurement}
    for measurement, shape in SCHEMA.items():
        tags, fields_cell = rows[measurement]
        assert tags == set(shape.tags) | set(shape.optional_tags), measurement
        for field in shape.fields + shape.optional_fields:
            assert f"`{field}`" in fields_cell, (measurement, field)


def parse(line: str) -> tuple[str, set[str], set[str]]:
    """Measurement, tag keys and field keys of one line of line protocol (escapes and quoted
    string fields included)."""
    body, _time = line.rsplit(" ", 1)
    head, fields = re.split(r"(?<!\\) ", body, maxsplit=1)
    measurement, *tags = re.split(r"(?<!\\),", head)
    keys = re.findall(r'(?:^|,)((?:[^=,"\\]|\\.)+)=(?:"(?:[^"\\]|\\.)*"|[^,]*)', fields)
    return measurement, {t.split("=")[0] for t in tags}, set(keys)


def test_every_point_ingest_writes_has_the_declared_tags_and_fields() -> None:
    fleet = fleet_with("st-1")
    ingest = Ingest(fleet, FakeClock(T0), alerts=AlertEngine(fleet))
    messages = [
        ("yz/stations/st-1/water/status", {"state": "online", "ts": T0, "boot": 1, "interval_s": 60}),
        (
            "yz/stations/st-1/water/telemetry",
            {"ts": T0 + 1, "seq": 1, "boot": 1, "data": {"water_temp_c": 40}},
        ),
        (
            "yz/stations/st-1/water/event",
            {"ts": T0 + 2, "seq": 2, "boot": 1, "event": "fault", "data": {"code": "leak"}},
        ),
        ("yz/stations/st-1/state", {"ts": T0 + 3, "seq": 1, "open": True, "source": "staff"}),
        ("yz/stations/st-1/water/telemetry", {"seq": 3, "boot": 1, "data": {"tank_level_pct": 50}}),  # no ts
    ]
    batch = ingest.handle_many((topic, orjson.dumps(body), False) for topic, body in messages)
    seen = set()
    for line in batch.lines:
        measurement, tags, fields = parse(line)
        shape = SCHEMA[Measurement(measurement)]
        seen.add(measurement)
        assert set(shape.tags) <= tags <= set(shape.tags) | set(shape.optional_tags), line
        assert set(shape.fields) <= fields, line
        if measurement not in {"water_dispenser", "events"}:  # those also carry the payload's data
            assert fields <= set(shape.fields) | set(shape.optional_fields), line
    assert {"device_status", "water_dispenser", "events", "station_state", "station_status", "alerts"} <= seen
