"""Monthly audit report speed: 600 stations × 30 sealed days, in JSON, CSV and HTML.

Seals synthetic but realistic station-days into a fresh hash chain, then times what
`GET /api/v1/reports/audit` does for each format, and `yizhan audit verify` over the chain.

    .venv/bin/python -m yizhan.bench.audit_report [--stations 600] [--days 30]
"""

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from yizhan.server.adapters.sqlite.alert_store import AlertStore
from yizhan.server.adapters.sqlite.audit_store import AuditStore
from yizhan.server.application.audit_report import to_csv, to_html
from yizhan.server.application.reports import build_report
from yizhan.server.domain.station import StationSpec

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stations", type=int, default=600)
    ap.add_argument("--days", type=int, default=30)
    args = ap.parse_args()
    run = Path(tempfile.mkdtemp(prefix="yizhan-bench-audit-"))
    audit, alerts = AuditStore(run / "audit.sqlite"), AlertStore(run / "alerts.sqlite")
    rng = random.Random(1)
    districts = ["shinan", "shibei", "licang", "laoshan", "chengyang", "huangdao", "jimo", "jiaozhou"]
    specs = {
        f"st-{i:04d}": StationSpec(
            name=f"驿站{i}", district=districts[i % len(districts)], schedule="07:00-19:00"
        )
        for i in range(args.stations)
    }
    t0 = time.perf_counter()
    first = date(2026, 3, 1)
    for n in range(args.days):
        day = (first + timedelta(days=n)).isoformat()
        for sid, spec in specs.items():
            verified = rng.randint(10 * 3600, 43200)
            flags = {"late_open": 25} if rng.random() < 0.05 else {}
            audit.seal(
                sid,
                day,
                {
                    "station": sid,
                    "district": spec.district,
                    "date": day,
                    "scheduled_s": 43200,
                    "reported_open_s": verified + 60,
                    "verified_open_s": verified,
                    "compliance": verified / 43200,
                    "flags": flags,
                    "verified_in_schedule_s": verified,
                    "device_online_s": {d: 86000 for d in ("door", "water", "power", "speaker")},
                    "visits": rng.randint(10, 40),
                    "water_l": rng.uniform(2, 10),
                    "energy_kwh": rng.uniform(1, 3),
                    "heating_sessions": rng.randint(0, 8),
                    "speaker_interactions": rng.randint(0, 5),
                },
                0,
            )
    seal_s = time.perf_counter() - t0
    figures: dict[str, float] = {}
    for fmt in ("json", "csv", "html"):
        t = time.perf_counter()
        report = build_report(
            audit, alerts, specs, "Asia/Shanghai", "2026-03", first, date(2026, 3, 31), None
        )
        if fmt == "json":
            json.dumps(report, ensure_ascii=False)
        elif fmt == "csv":
            to_csv(report)
        else:
            to_html(report)
        figures[fmt] = time.perf_counter() - t
    t = time.perf_counter()
    checked, broken = audit.verify()
    verify_s = time.perf_counter() - t
    assert broken is None and checked == args.stations * args.days
    result = {
        "stations": args.stations,
        "days": args.days,
        "report_json_s": round(figures["json"], 3),
        "report_csv_s": round(figures["csv"], 3),
        "report_html_s": round(figures["html"], 3),
        "verify_chain_s": round(verify_s, 3),
        "seal_per_day_ms": round(seal_s / (args.stations * args.days) * 1000, 3),
    }
    print(f"audit report, {args.stations} stations × {args.days} days")
    for key, value in result.items():
        print(f"  {key:<18}{value:>10}")
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "audit_report.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
