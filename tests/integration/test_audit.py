"""Auditors over real services: a day delivered late gives the same figures as one delivered live;
the monthly report in JSON, CSV and HTML; the hash chain and `yizhan audit verify`; time zones."""

import csv
import io
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest

from tests.conftest import REPO, STATION_BODY, Publisher, ServerProc, shared_server, wait_for
from yizhan.localstack import Broker, Influx

SH = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 3, 2, tzinfo=SH)  # a Monday; the schedule is 07:00-19:00


def ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def day_messages(server: ServerProc, sid: str, day: datetime) -> list[tuple[int, str, dict]]:
    """A day of one station: opens 20 min late, closes an hour early, the dispenser out 40 min,
    two visits in hours and one at night. (time, topic, payload), in time order."""
    out: list[tuple[int, str, dict]] = []
    seq = {d: 0 for d in ("door", "water", "power", "speaker")}

    def seqd(device: str, t: datetime, body: dict) -> None:
        out.append(
            (
                ms(t),
                server.topic(sid, device, "telemetry" if "data" in body and "event" not in body else "event"),
                {"ts": ms(t), "seq": seq[device], "boot": 1, **body},
            )
        )
        seq[device] += 1

    for d in seq:
        out.append(
            (
                ms(day),
                server.topic(sid, d, "status"),
                {"state": "online", "ts": ms(day), "boot": 1, "interval_s": 300},
            )
        )
    t = day + timedelta(minutes=1)
    while t < day + timedelta(days=1):
        for d in seq:
            if d == "water" and day.replace(hour=10) <= t < day.replace(hour=10, minute=40):
                continue
            seqd(d, t, {"data": {"battery_pct": 90.0} if d == "door" else {}})
        t += timedelta(minutes=5)
    out.append(
        (
            ms(day.replace(hour=10)),
            server.topic(sid, "water", "status"),
            {"state": "offline", "boot": 1, "ts": ms(day.replace(hour=10))},
        )
    )
    back = day.replace(hour=10, minute=40)
    out.append(
        (
            ms(back),
            server.topic(sid, "water", "status"),
            {"state": "online", "ts": ms(back), "boot": 1, "interval_s": 300},
        )
    )
    for hh, mm, is_open in ((7, 20, True), (18, 0, False)):
        at = day.replace(hour=hh, minute=mm)
        out.append((ms(at), server.topic(sid, None, "state"), {"ts": ms(at), "seq": hh, "open": is_open}))
    for hh in (9, 12, 22):
        for minute, state in ((0, True), (1, False)):
            seqd(
                "door",
                day.replace(hour=hh, minute=minute, second=30),
                {"event": "door", "data": {"open": state}},
            )
    return sorted(out, key=lambda m: m[0])


def publish(device: Publisher, messages: list[tuple[int, str, dict]]) -> None:
    for _, topic, payload in messages:
        device.publish(topic, payload, retain=topic.endswith("/status") or topic.endswith("/state"))


def opening(server: ServerProc, sid: str, day: str = "2026-03-02") -> dict:
    return server.get(f"/api/v1/stations/{sid}/opening", start=day).json()["days"][0]


@pytest.fixture(scope="module")
def audited(broker: Broker, influx: Influx, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    """One station's day delivered live, the same day of another delivered after it was sealed."""
    tmp = tmp_path_factory.mktemp("audit")
    server = shared_server(broker, influx, tmp, "audit", YZ_CLOCK="event")
    device = Publisher(broker)
    for sid in ("st-live", "st-late"):
        assert server.put_station(sid, STATION_BODY).status_code == 201
    eve = DAY - timedelta(minutes=1)  # the event clock takes no jump of over 5 min (clock skew)
    device.publish(server.topic("st-late", "door", "status"), {"state": "online", "ts": ms(eve), "boot": 7})
    publish(device, day_messages(server, "st-live", DAY))
    # the next day goes on, so the event clock passes the seal time of the first
    nxt = [m for m in day_messages(server, "st-live", DAY + timedelta(days=1)) if m[0] < ms(DAY) + 90_000_000]
    publish(device, nxt)
    wait_for(lambda: opening(server, "st-live")["sealed"], 30, what="the live day sealed")
    wait_for(lambda: opening(server, "st-late")["sealed"], 30, what="the late station's empty day sealed")
    assert "not_opened" in opening(server, "st-late")["flags"]
    publish(device, day_messages(server, "st-late", DAY))  # the gateway replays the day, a day late
    yield server
    device.close()
    server.stop()


def test_a_day_delivered_late_gives_the_same_numbers_as_one_delivered_live(audited: ServerProc) -> None:
    live = opening(audited, "st-live")
    assert live["reported_open_s"] == (18 * 60 - 7 * 60 - 20) * 60
    assert live["verified_open_s"] == live["reported_open_s"]  # the others stayed online while water was out
    assert live["flags"] == {"late_open": 20, "early_close": 60, "activity_while_closed": 1}
    assert live["compliance"] == round((18 * 60 - 7 * 60 - 20) / (12 * 60), 4)
    late = wait_for(
        lambda: (d := opening(audited, "st-late"))["version"] >= 2 and d, 30, what="the late day re-sealed"
    )
    strip = ("version", "chain_seq")
    assert {k: v for k, v in late.items() if k not in strip} == {
        k: v for k, v in live.items() if k not in strip
    }


def test_the_monthly_report_in_json_csv_and_html(audited: ServerProc) -> None:
    wait_for(lambda: opening(audited, "st-late")["version"] >= 2, 30, what="late day re-sealed")
    report = audited.get("/api/v1/reports/audit", month="2026-03").json()
    rows = {r["station"]: r for r in report["stations"]}
    live = rows["st-live"]
    assert live["flags"]["late_open"] == 1 and live["flags"]["activity_while_closed"] == 1
    assert live["visits"] == 3 and live["compliance"] > 0.8
    assert live["inspection"]["open_all_year"]["ok"] is True
    assert report["districts"][0]["district"] == "shinan" and report["districts"][0]["stations"] == 2
    assert len(report["chain_head"]["hash"]) == 64
    resp = audited.get("/api/v1/reports/audit", month="2026-03", format="csv")
    assert resp.headers["content-type"].startswith("text/csv") and resp.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    head = table[0]
    assert head[:3] == ["区市", "站点编号", "站点名称"] and "合规率(%)" in head and "迟开(天)" in head
    line = next(r for r in table if len(r) > 1 and r[1] == "st-live")
    assert line[head.index("站点名称")] == STATION_BODY["name"]
    assert float(line[head.index("合规率(%)")]) == round(live["compliance"] * 100, 1)
    assert line[head.index("迟开(天)")] == "1" and line[head.index("到访人次")] == "3"
    assert any(r and r[0] == "哈希链头" and r[2] == report["chain_head"]["hash"] for r in table)
    page = audited.get("/api/v1/reports/audit", month="2026-03", format="html").text
    assert '<html lang="zh-CN">' in page and "驿站开放审计报告 2026-03" in page
    assert (
        "st-live" in page
        and f"{live['compliance'] * 100:.1f}" in page
        and report["chain_head"]["hash"] in page
    )
    assert audited.get("/api/v1/reports/audit", month="2026-13").status_code == 422


def verify(server: ServerProc) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "yizhan", "audit", "verify"],
        env=server.env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_changing_a_sealed_record_makes_audit_verify_fail_and_name_it(audited: ServerProc) -> None:
    ok = verify(audited)
    assert ok.returncode == 0 and "intact" in ok.stdout, ok.stdout + ok.stderr
    seq = opening(audited, "st-live")["chain_seq"]
    db = sqlite3.connect(audited.data_dir / "audit.sqlite")
    (body,) = db.execute("SELECT record FROM chain WHERE seq = ?", (seq,)).fetchone()
    record = orjson.loads(body)
    record["verified_open_s"] += 3600  # an hour more than happened
    db.execute("UPDATE chain SET record = ? WHERE seq = ?", (orjson.dumps(record), seq))
    db.commit()
    db.close()
    broken = verify(audited)
    assert broken.returncode == 1
    assert (
        f"record {seq} (st-live 2026-03-02)" in broken.stdout and "does not match its hash" in broken.stdout
    )


def test_a_station_in_another_time_zone_has_its_days_cut_in_its_own_zone(audited: ServerProc) -> None:
    device = Publisher(audited.broker)
    berlin = ZoneInfo("Europe/Berlin")
    assert audited.put_station("st-berlin", dict(STATION_BODY, timezone="Europe/Berlin")).status_code == 201
    # 16:30-17:30 in Berlin is 23:30-00:30 in Shanghai: one day there, two days here
    opens, closes = datetime(2026, 3, 2, 16, 30, tzinfo=berlin), datetime(2026, 3, 2, 17, 30, tzinfo=berlin)
    for seq, (at, is_open) in enumerate(((opens, True), (closes, False))):
        device.publish(audited.topic("st-berlin", None, "state"), {"ts": ms(at), "seq": seq, "open": is_open})
    device.close()
    wait_for(lambda: opening(audited, "st-berlin", "2026-03-02")["reported_open_s"] == 3600, what="one day")
    assert opening(audited, "st-berlin", "2026-03-03")["reported_open_s"] == 0
    assert (
        audited.get("/api/v1/stations/st-berlin/opening", start="2026-03-02").json()["timezone"]
        == "Europe/Berlin"
    )
