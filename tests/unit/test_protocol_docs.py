"""docs/protocol.md and docs/protocol.zh.md against each other and against the code.

The two editions are written by hand for device vendors. These tests keep them honest: both
editions say the same thing, the fault table is the catalog, every example is what the code
accepts (or rejects, as marked), and the alert examples are what the server would publish.
"""

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from yizhan.protocol.faults import CATALOG, SEVERITIES
from yizhan.protocol.ids import DEVICE_TYPES
from yizhan.protocol.payloads import (
    DATA_MODELS,
    EVENT_DATA_MODELS,
    Birth,
    Death,
    Outlet,
    PayloadError,
    StationState,
    decode_event,
    decode_station_state,
    decode_status,
    decode_telemetry,
)
from yizhan.protocol.topics import TopicError, TopicKind, parse_station_topic
from yizhan.server.application.alerting import notification_dict
from yizhan.server.application.ingest import REJECTION_REASONS, AlertAction, Batch, Ingest
from yizhan.server.domain.alerts import RULES, AlertEngine
from yizhan.server.domain.fleet import Fleet
from yizhan.server.domain.station import StationSpec

from tests.unit.fakes import FakeClock

DOCS = Path(__file__).resolve().parents[2] / "docs"
EN_PATH, ZH_PATH = DOCS / "protocol.md", DOCS / "protocol.zh.md"

# the example station of the documents' "Identifiers" section
STATION, DISTRICT, STATION_NAME = "st-0001", "shinan", "市南区香港中路驿站"
DEVICES = {
    "door": "door_sensor",
    "water": "water_dispenser",
    "power": "power_strip",
    "speaker": "smart_speaker",
    "gw": "gateway",
}
RETAINED_KINDS = (TopicKind.STATUS, TopicKind.STATE)


# --- reading the documents ---------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    topic: str
    body: dict
    rejected: str | None  # the reason of a `Rejected:` mark
    line: int

    @property
    def payload(self) -> bytes:
        return json.dumps(self.body, ensure_ascii=False).encode()

    @property
    def station_topic(self) -> bool:
        return self.topic.startswith("yz/stations/")

    @property
    def retained(self) -> bool:
        if self.topic == "yz/server/status":
            return True
        return self.station_topic and parse_station_topic(self.topic).kind in RETAINED_KINDS


_TOPIC_LINE = re.compile(r"^Topic: `([^`]+)`$")
_REJECTED_LINE = re.compile(r"^Rejected: ([a-z_]+)$")


def examples(text: str) -> list[Example]:
    """Every ```json block, with the `Topic:` line right above it and an optional `Rejected:`
    line above that (blank lines between them allowed)."""
    lines = text.splitlines()
    out = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```json":
            i += 1
            continue
        topic = _TOPIC_LINE.match(lines[i - 1]) if i else None
        assert topic, f"line {i + 1}: a json block must come right after a `Topic:` line"
        j = i - 2
        while j >= 0 and not lines[j].strip():
            j -= 1
        rejected = _REJECTED_LINE.match(lines[j]) if j >= 0 else None
        end = lines.index("```", i + 1)
        body = json.loads("\n".join(lines[i + 1 : end]))
        out.append(Example(topic.group(1), body, rejected.group(1) if rejected else None, i + 1))
        i = end + 1
    return out


def tables(text: str) -> list[list[list[str]]]:
    """Markdown tables as rows of cells (header first, the |---| line dropped)."""
    out: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= set("-: ") for c in cells):
                current.append(cells)
        elif current:
            out.append(current)
            current = []
    return out


def ticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def first_column_names(text: str) -> list[list[str]]:
    """Per table, the backticked names of its first column: field names, topics, codes, rules."""
    return [[name for row in table[1:] for name in ticked(row[0])] for table in tables(text)]


def fault_table(text: str) -> dict[str, tuple[str, str, str]]:
    """code → (device type, meaning, default severity), from the table headed "default severity"."""
    (table,) = [t for t in tables(text) if t[0][-1] in ("default severity", "默认严重级别")]
    return {ticked(r[0])[0]: (ticked(r[1])[0], r[2], ticked(r[3])[0]) for r in table[1:]}


EN = EN_PATH.read_text(encoding="utf-8")
ZH = ZH_PATH.read_text(encoding="utf-8")
EN_EXAMPLES = examples(EN)


def names_in(text: str) -> set[str]:
    return set(re.findall(r"`([^`\n]+)`", text))


def epoch_ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


# --- (a) both editions say the same thing ----------------------------------------------------


def test_each_edition_links_to_the_other():
    assert "(protocol.zh.md)" in EN.split("\n## ")[0]
    assert "(protocol.md)" in ZH.split("\n## ")[0]


def test_both_editions_name_the_same_topics():
    topics = {n for n in names_in(EN) if n.startswith("yz/")}
    assert topics == {n for n in names_in(ZH) if n.startswith("yz/")}
    assert len(topics) > 10


def test_both_editions_have_the_same_tables_with_the_same_field_names():
    en, zh = first_column_names(EN), first_column_names(ZH)
    assert len(en) == len(zh)
    for n, (a, b) in enumerate(zip(en, zh, strict=True)):
        assert a == b, f"table {n + 1}"


def test_both_editions_have_the_same_fault_codes_devices_and_severities():
    en, zh = fault_table(EN), fault_table(ZH)
    assert {c: (d, s) for c, (d, _, s) in en.items()} == {c: (d, s) for c, (d, _, s) in zh.items()}


def test_both_editions_have_the_same_examples_with_the_same_topics_and_marks():
    zh = examples(ZH)
    assert [(e.topic, e.body, e.rejected) for e in EN_EXAMPLES] == [(e.topic, e.body, e.rejected) for e in zh]


# --- (b) the fault table is the catalog ---------------------------------------------------------


def test_the_fault_table_is_the_catalog():
    want = {f.code: (f.device_type, f.meaning, f.severity) for f in CATALOG.values()}
    assert fault_table(EN) == want
    want_zh = {f.code: (f.device_type, f.meaning_zh, f.severity) for f in CATALOG.values()}
    assert fault_table(ZH) == want_zh


# --- (c) every example is what the code accepts, or rejects as marked ------------------------


def decode(example: Example) -> str | None:
    """The rejection reason of the payload decoders, or None when they accept it."""
    try:
        t = parse_station_topic(example.topic)
        assert t.station == STATION and (t.device is None or t.device in DEVICES), example.topic
        if t.kind is TopicKind.STATUS:
            decode_status(example.payload)
        elif t.kind is TopicKind.TELEMETRY:
            decode_telemetry(example.payload, DEVICES[t.device or ""])
        elif t.kind is TopicKind.EVENT:
            decode_event(example.payload)
        elif t.kind is TopicKind.STATE:
            decode_station_state(example.payload)
    except TopicError:
        return "bad_topic"
    except PayloadError as exc:
        return exc.reason
    return None


STATION_EXAMPLES = [e for e in EN_EXAMPLES if e.station_topic]


@pytest.mark.parametrize("example", STATION_EXAMPLES, ids=lambda e: f"line{e.line}")
def test_every_station_example_decodes_or_is_rejected_as_marked(example):
    assert decode(example) == example.rejected
    if example.rejected:
        assert example.rejected in REJECTION_REASONS


def test_the_examples_cover_every_message_kind_device_type_and_event():
    accepted = [e for e in EN_EXAMPLES if e.station_topic and not e.rejected]
    kinds = {parse_station_topic(e.topic).kind for e in accepted}
    assert kinds == set(TopicKind) - {TopicKind.CMD}
    telemetry = {e.topic.split("/")[3] for e in accepted if e.topic.endswith("/telemetry")}
    births = {e.body["type"] for e in accepted if e.body.get("state") == "online"}
    assert {DEVICES[d] for d in telemetry} == births == set(DEVICE_TYPES) - {"other"}
    assert {e.body["event"] for e in accepted if "event" in e.body} == set(EVENT_DATA_MODELS)
    assert {e.body["state"] for e in EN_EXAMPLES if e.topic == "yz/server/status"} == {"online", "offline"}
    alerts = {e.body["kind"] for e in EN_EXAMPLES if e.topic.startswith("yz/alerts/")}
    assert alerts == {"firing", "escalated", "acknowledged", "resolved"}


def test_the_example_station_table_is_the_one_the_examples_use():
    (table,) = [t for t in tables(EN) if t[0][0] == "device id"]
    assert {ticked(r[0])[0]: ticked(r[1])[0] for r in table[1:]} == DEVICES


def replay(examples_: list[Example]) -> tuple[Ingest, Batch]:
    """The station examples through the real ingest and alert engine, in time order, with the
    server's one-second tick in between and the acknowledgement of the acknowledged example.
    Messages without `ts` come last (their time is the receive time)."""
    spec = StationSpec.model_validate(
        {
            "name": STATION_NAME,
            "district": DISTRICT,
            "devices": [{"id": d, "type": t} for d, t in DEVICES.items()],
        }
    )
    fleet = Fleet()
    fleet.register(STATION, spec)
    engine = AlertEngine(fleet)  # default reminder (30 min) and escalation (60 min), as the server
    stamped = [e.body["ts"] for e in examples_ if e.station_topic and "ts" in e.body]
    end = max(stamped) + 1000
    clock = FakeClock(min(stamped) // 1000 * 1000)
    ingest = Ingest(fleet, clock, alerts=engine)
    steps: list[tuple[int, int, Example]] = [
        (e.body.get("ts", end), n, e) for n, e in enumerate(examples_) if e.station_topic
    ]
    (ack,) = [e for e in examples_ if e.topic.startswith("yz/alerts/") and e.body["kind"] == "acknowledged"]
    steps.append((epoch_ms(ack.body["at"]), len(examples_), ack))
    out = Batch()
    next_tick = clock.now
    for at, _, e in sorted(steps, key=lambda s: s[:2]):
        while next_tick <= at:
            clock.now = next_tick
            out.extend(ingest.tick())
            next_tick += 1000
        clock.now = at
        if e is ack:
            a = ack.body["alert"]
            key = (a["rule"], a["device"])
            (alert_id,) = [x.id for x in engine.open.values() if (x.rule, x.device) == key]
            out.extend(ingest.act(AlertAction("acknowledge", alert_id, ack.body["by"], ack.body["note"])))
        else:
            assert ingest.handle(e.topic, e.payload, e.retained) is (e.rejected is None), (e.line, e.topic)
            out.extend(ingest.take_batch())
    return ingest, out


def test_the_examples_through_ingest_are_accepted_or_rejected_as_marked_and_stored():
    ingest, out = replay(EN_EXAMPLES)
    marked = Counter(e.rejected for e in EN_EXAMPLES if e.rejected)
    assert +ingest.rejected == marked
    measurements = {line.split(",", 1)[0] for line in out.lines}
    assert set(DEVICE_TYPES) - {"other"} | {"events", "device_status", "station_state"} <= measurements
    # a death has no `ts` by design (a last will): only the other kinds count as skewed
    unstamped = [e for e in EN_EXAMPLES if e.station_topic and "ts" not in e.body and not e.rejected]
    assert ingest.clock_skew == sum(1 for e in unstamped if e.body.get("state") != "offline") >= 1


def test_the_alert_examples_are_what_the_server_publishes_for_the_documented_messages():
    _, out = replay(EN_EXAMPLES)
    documented = [e for e in EN_EXAMPLES if e.topic.startswith("yz/alerts/")]
    for e in documented:
        a = e.body["alert"]
        assert e.topic == f"yz/alerts/{a['district']}/{a['station']}"
        key = (e.body["kind"], a["rule"], a["device"])
        same = [t for t in out.transitions if (t.kind, t.alert.rule, t.alert.device) == key]
        assert len(same) == 1, (e.line, e.body["kind"])
        got = notification_dict(same[0], None)
        got["alert"]["id"] = a["id"]  # ids are the server's
        assert got == e.body, e.line


# --- (d) every name the code knows is documented -------------------------------------------------


def field_table_names(text: str) -> set[str]:
    """Field names of the tables whose header starts with "field"."""
    return {n for t in tables(text) if t[0][0] in ("field", "字段") for row in t[1:] for n in ticked(row[0])}


def test_every_device_type_event_reason_severity_and_topic_kind_is_in_the_english_edition():
    names = names_in(EN)
    assert set(DEVICE_TYPES) <= names
    assert set(EVENT_DATA_MODELS) <= names
    assert set(REJECTION_REASONS) <= names
    assert set(SEVERITIES) <= names
    topics = {n for n in names if n.startswith("yz/")}
    for kind in TopicKind:
        assert any(t.endswith("/" + kind.value) for t in topics), kind
    assert {r for r in RULES if r != "fault"} | {"fault:{code}"} <= names


def test_every_field_the_decoders_know_is_in_a_field_table():
    documented = field_table_names(EN)
    models = [Birth, Death, StationState, Outlet, *DATA_MODELS.values(), *EVENT_DATA_MODELS.values()]
    known = {name for m in models for name in m.model_fields}
    known |= {"ts", "seq", "boot", "event", "data"}
    assert known - documented == set()
    assert field_table_names(ZH) == documented
