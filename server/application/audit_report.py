"""The monthly audit report: sealed station-days summed per station and district, with the
self-inspection items that telemetry can evidence; as JSON, CSV (Excel-ready) and printable HTML."""

import csv
import html
import io
from collections import defaultdict
from typing import Any

from yizhan.server.domain.alerts import Alert
from yizhan.server.domain.opening import FLAGS

COMPLIANT_DAY = 0.98  # a day counts as fully compliant at ≥ 98 % verified of its scheduled time
FLAG_NAMES_ZH = {
    "late_open": "迟开",
    "early_close": "早闭",
    "not_opened": "未开放",
    "open_devices_offline": "报开但设备离线",
    "open_no_activity": "开放无人使用",
    "activity_while_closed": "闭站期间有人进出",
    "clock_skew": "设备时钟异常",
    "data_gap": "数据中断",
}
SUMMED = (
    "scheduled_s",
    "reported_open_s",
    "verified_open_s",
    "verified_in_schedule_s",
    "visits",
    "heating_sessions",
    "speaker_interactions",
)


def station_rows(
    records: list[dict[str, Any]], names: dict[str, str], alerts: list[Alert]
) -> list[dict[str, Any]]:
    """One row per station from its sealed days of the month and its fault alerts."""
    by_station: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_station[r["station"]].append(r)
    faults: dict[str, list[Alert]] = defaultdict(list)
    for a in alerts:
        if a.rule.startswith("fault:") or a.rule in ("water_cold", "mains_voltage", "battery_low"):
            faults[a.station].append(a)
    rows = []
    for station, days in sorted(by_station.items()):
        row: dict[str, Any] = {
            "station": station,
            "name": names.get(station, station),
            "district": days[0]["district"],
            "days": len(days),
        }
        for key in SUMMED:
            row[key] = sum(int(d.get(key, 0)) for d in days)
        row["water_l"] = round(sum(d.get("water_l", 0.0) for d in days), 3)
        row["energy_kwh"] = round(sum(d.get("energy_kwh", 0.0) for d in days), 3)
        row["compliance"] = _ratio(row["verified_in_schedule_s"], row["scheduled_s"])
        scheduled_days = [d for d in days if d["scheduled_s"] > 0]
        row["scheduled_days"] = len(scheduled_days)
        row["compliant_days"] = sum(1 for d in scheduled_days if d["compliance"] >= COMPLIANT_DAY)
        row["opened_days"] = sum(1 for d in scheduled_days if d["reported_open_s"] > 0)
        row["flags"] = {f: sum(1 for d in days if f in d["flags"]) for f in FLAGS}
        repaired = [a.resolved_at_ms - a.fired_at_ms for a in faults[station] if a.resolved_at_ms]
        row["faults"] = len(faults[station])
        row["mean_repair_min"] = round(sum(repaired) / len(repaired) / 60_000, 1) if repaired else None
        online = [
            s / 86_400 for d in days for s in (d.get("device_online_s") or {}).values()
        ]  # share of each device-day online
        row["device_uptime"] = round(sum(online) / len(online), 4) if online else 0.0
        row["inspection"] = inspection(row, days)
        rows.append(row)
    return rows


def inspection(row: dict[str, Any], days: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Self-inspection items (自查评分表) that telemetry evidences: pass or not, and the evidence."""
    opened = row["opened_days"]
    water_days = sum(1 for d in days if d.get("water_l", 0) > 0 and d["reported_open_s"] > 0)
    return {
        "open_all_year": {
            "ok": row["scheduled_days"] > 0 and opened >= 0.95 * row["scheduled_days"],
            "evidence": f"{opened}/{row['scheduled_days']} 天开放",
        },
        "hours_kept": {
            "ok": row["compliance"] >= 0.95,
            "evidence": f"核实开放 {row['compliance'] * 100:.1f}%",
        },
        "water_working": {
            "ok": opened > 0 and water_days >= 0.8 * opened,
            "evidence": f"{water_days}/{opened} 天供水，共 {row['water_l']:.1f} L",
        },
        "microwave_used": {
            "ok": row["heating_sessions"] > 0,
            "evidence": f"热饭 {row['heating_sessions']} 次",
        },
        "devices_working": {
            "ok": row["device_uptime"] >= 0.95,
            "evidence": f"设备在线 {row['device_uptime'] * 100:.1f}%",
        },
        "used_by_workers": {"ok": row["visits"] > 0, "evidence": f"到访 {row['visits']} 人次"},
    }


INSPECTION_NAMES_ZH = {
    "open_all_year": "常年开放",
    "hours_kept": "按时开放",
    "water_working": "饮水设施正常",
    "microwave_used": "微波炉可用",
    "devices_working": "设备运行正常",
    "used_by_workers": "有户外劳动者使用",
}


def district_totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        t = out.setdefault(
            r["district"],
            {
                "district": r["district"],
                "stations": 0,
                "water_l": 0.0,
                "energy_kwh": 0.0,
                "faults": 0,
                "compliant_days": 0,
                "scheduled_days": 0,
            }
            | {k: 0 for k in SUMMED},
        )
        t["stations"] += 1
        for key in (*SUMMED, "faults", "compliant_days", "scheduled_days"):
            t[key] += r[key]
        t["water_l"] = round(t["water_l"] + r["water_l"], 3)
        t["energy_kwh"] = round(t["energy_kwh"] + r["energy_kwh"], 3)
    for t in out.values():
        t["compliance"] = _ratio(t["verified_in_schedule_s"], t["scheduled_s"])
    return [out[d] for d in sorted(out)]


CSV_COLUMNS = [
    ("district", "区市"),
    ("station", "站点编号"),
    ("name", "站点名称"),
    ("days", "统计天数"),
    ("scheduled_h", "排班时长(小时)"),
    ("verified_h", "核实开放时长(小时)"),
    ("compliance_pct", "合规率(%)"),
    ("compliant_days", "全天合规天数"),
    ("visits", "到访人次"),
    ("water_l", "供水(升)"),
    ("energy_kwh", "用电(千瓦时)"),
    ("heating_sessions", "热饭次数"),
    ("faults", "故障次数"),
    ("mean_repair_min", "平均修复(分钟)"),
]


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    return dict(
        row,
        scheduled_h=round(row["scheduled_s"] / 3600, 2),
        verified_h=round(row["verified_open_s"] / 3600, 2),
        compliance_pct=round(row["compliance"] * 100, 1),
    )


def to_csv(report: dict[str, Any]) -> bytes:
    """UTF-8 with a BOM, Chinese headers: opens as it should in Excel."""
    buf = io.StringIO()
    w = csv.writer(buf)
    head = [zh for _, zh in CSV_COLUMNS] + [FLAG_NAMES_ZH[f] + "(天)" for f in FLAGS]
    head += [f"自查:{INSPECTION_NAMES_ZH[k]}" for k in INSPECTION_NAMES_ZH]
    w.writerow(head)
    for row in report["stations"]:
        flat = _flat(row)
        line = [flat[k] if flat[k] is not None else "" for k, _ in CSV_COLUMNS]
        line += [row["flags"][f] for f in FLAGS]
        line += [
            ("达标 " if row["inspection"][k]["ok"] else "未达标 ") + row["inspection"][k]["evidence"]
            for k in INSPECTION_NAMES_ZH
        ]
        w.writerow(line)
    for t in report["districts"]:
        w.writerow(
            [
                t["district"],
                "合计",
                f"{t['stations']} 个站点",
                "",
                round(t["scheduled_s"] / 3600, 2),
                round(t["verified_open_s"] / 3600, 2),
                round(t["compliance"] * 100, 1),
                t["compliant_days"],
                t["visits"],
                t["water_l"],
                t["energy_kwh"],
                t["heating_sessions"],
                t["faults"],
                "",
            ]
        )
    w.writerow([])
    w.writerow(["哈希链头", report["chain_head"]["seq"], report["chain_head"]["hash"]])
    return "\ufeff".encode() + buf.getvalue().encode("utf-8")


def to_html(report: dict[str, Any]) -> str:
    e = html.escape
    title = f"驿站开放审计报告 {report['month']}" + (f" · {report['district']}" if report["district"] else "")
    head = "".join(f"<th>{e(zh)}</th>" for _, zh in CSV_COLUMNS) + "<th>异常标记</th><th>自查项目</th>"
    body = []
    for row in report["stations"]:
        flat = _flat(row)
        cells = "".join(f"<td>{e(str(flat[k] if flat[k] is not None else '—'))}</td>" for k, _ in CSV_COLUMNS)
        flags = "、".join(f"{FLAG_NAMES_ZH[f]} {n} 天" for f, n in row["flags"].items() if n) or "无"
        checks = "<br>".join(
            f"{'✔' if v['ok'] else '✘'} {e(INSPECTION_NAMES_ZH[k])}：{e(v['evidence'])}"
            for k, v in row["inspection"].items()
        )
        body.append(f"<tr>{cells}<td>{e(flags)}</td><td class=insp>{checks}</td></tr>")
    totals = "".join(
        f"<tr class=total><td>{e(t['district'])}</td><td colspan=3>合计 {t['stations']} 个站点</td>"
        f"<td>{t['scheduled_s'] / 3600:.2f}</td><td>{t['verified_open_s'] / 3600:.2f}</td>"
        f"<td>{t['compliance'] * 100:.1f}</td><td>{t['compliant_days']}</td><td>{t['visits']}</td>"
        f"<td>{t['water_l']}</td><td>{t['energy_kwh']}</td><td>{t['heating_sessions']}</td>"
        f"<td>{t['faults']}</td><td colspan=3></td></tr>"
        for t in report["districts"]
    )
    head_hash = report["chain_head"]
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>
body{{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5em;font-size:12px}}
table{{border-collapse:collapse;width:100%}} th,td{{border:1px solid #999;padding:3px 5px;vertical-align:top}}
th{{background:#eee}} tr.total td{{font-weight:bold;background:#f6f6f6}} td.insp{{white-space:nowrap}}
@media print{{body{{margin:0}} @page{{size:A4 landscape;margin:1cm}}}}
</style></head><body>
<h1>{e(title)}</h1>
<p>统计口径：已封存的站点日（{report["sealed_days"]} 个）；合规率 = 排班时段内核实开放时长 ÷ 排班时长；
全天合规指当日合规率 ≥ {COMPLIANT_DAY * 100:.0f}%。</p>
<table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}{totals}</tbody></table>
<p>哈希链头：第 {head_hash["seq"]} 条，<code>{e(head_hash["hash"])}</code>
（可用 <code>yizhan audit verify</code> 校验）</p>
</body></html>"""


def _ratio(num: int, den: int) -> float:
    return round(num / den, 4) if den else 1.0
