"""Importing the districts' own tables into a running server (tests/fixtures/tables/builders.py): four
tables that each number from 1 keep all their stations; a row that would replace another station is
refused until `--update`; what the rows said is what the API serves, and the audit sees the
imported opening hours."""

import subprocess
import sys

from openpyxl import load_workbook

from tests.conftest import REPO
from tests.fixtures.tables import builders


def run_import(env, *args, module: str = "yizhan"):
    """`yizhan stations import …`; with the module of the command itself for the options
    `yizhan` does not forward yet (--update, --report)."""
    cmd = [sys.executable, "-m", module, *(["stations", "import"] if module == "yizhan" else []), *args]
    return subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)


COMMAND = "yizhan.server.entrypoints.cli.stations"


def test_four_district_tables_numbering_from_1_all_arrive(server, tmp_path):
    for path in builders.district_tables(tmp_path):
        result = run_import(server.env(), str(path), "--api", server.url)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "8 stations loaded" in result.stdout and "1 rows skipped" in result.stdout  # the 合计 row
    listed = {s["id"]: s for s in server.get("/api/v1/stations").json()}
    assert len(listed) == 32
    for district, did in builders.DISTRICTS:
        for k in range(1, 9):
            assert listed[f"{did}-{k:04d}"]["name"] == f"{district}第{k}驿站"
            assert listed[f"{did}-{k:04d}"]["district"] == did
    body = server.get("/api/v1/stations/licang-0003").json()
    assert (body["address"], body["contact"], body["schedule"], body["services"]) == (
        "李沧区路3号",
        {"name": "负责人3", "phone": "13900000003"},
        "07:00-19:00",
        ["water", "rest"],
    )
    # the same table again: its stations are updated, none lost or added
    again = run_import(server.env(), str(builders.district_tables(tmp_path)[2]), "--api", server.url)
    assert again.returncode == 0 and len(server.get("/api/v1/stations").json()) == 32


def test_a_table_that_would_replace_other_stations_is_refused_until_update(server, tmp_path):
    shibei = builders.district_tables(tmp_path)[1]
    assert run_import(server.env(), str(shibei), "--api", server.url).returncode == 0
    # the Qingdao form has no 序号: its 市北区 rows number 1, 2, 3 by their place, the ids of
    # 市北区第1…3驿站 registered above
    qingdao = builders.qingdao_navigation_csv(tmp_path)
    refused = run_import(server.env(), str(qingdao), "--api", server.url)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert (
        "import: row 4: 未导入 — 编号 shibei-0001 已登记为 '市北区第1驿站'（市北区路1号）" in refused.stderr
    )
    assert "'市北区台东邮政驿站'（市北区台东三路50号）" in refused.stderr
    assert server.get("/api/v1/stations/shibei-0001").json()["name"] == "市北区第1驿站"

    report = tmp_path / "结果.xlsx"
    updated = run_import(
        server.env(), str(qingdao), "--api", server.url, "--update", "--report", str(report), module=COMMAND
    )
    assert updated.returncode == 0, updated.stdout + updated.stderr
    first = server.get("/api/v1/stations/shibei-0001").json()
    assert (first["name"], first["address"], first["contact"]) == (
        "市北区台东邮政驿站",
        "市北区台东三路50号",
        {"name": "刘洋", "phone": "13969800001"},
    )
    assert "schedule" not in first  # the form has no 开放时间: none is made up
    assert server.get("/api/v1/stations/shibei-0002").json()["contact"] == {
        "name": "陈静"
    }  # 1.39698E+10 dropped
    lines = list(load_workbook(report)["导入结果"].iter_rows(values_only=True))
    assert [line[1] for line in lines[1:]] == ["有警告", "有警告", "有警告"]
    assert "按 --update 替换" in lines[1][2] and "科学计数法" in lines[2][2]


def test_what_the_rows_said_is_served_and_audited(server, tmp_path):
    for path in (builders.dalian_summary_xlsx(tmp_path), builders.two_row_header_xlsx(tmp_path)):
        result = run_import(server.env(), str(path), "--api", server.url)
        assert result.returncode == 0, result.stdout + result.stderr
    post = server.get("/api/v1/stations/zhongshan-0001").json()
    assert post["schedule"] == {d: ["08:30-17:30"] for d in ("mon", "tue", "wed", "thu", "fri")}
    assert post["contact"] == {"name": "王芳", "phone": "13904112345"} and post["services"] == [
        "water",
        "rest",
        "toilet",
    ]
    hk = server.get("/api/v1/stations/shinan-0001").json()
    assert hk["schedule"]["seasons"][0] == {
        "name": "夏季",
        "from": "05-01",
        "to": "09-30",
        "hours": "07:00-19:00",
    }
    assert (hk["lon"], hk["lat"]) == (120.3826, 36.0671)
    night = server.get("/api/v1/stations/chengyang-0001").json()
    assert night["schedule"] == "20:00-08:00+1" and night["lat"] is None and night["lon"] is None
    # the audit's scheduled time comes from the imported hours: 周一至周五 8:30-17:30
    days = server.get("/api/v1/stations/zhongshan-0001/opening", start="2026-03-08", end="2026-03-10").json()[
        "days"
    ]
    assert [(d["date"], d["scheduled_s"]) for d in days] == [("2026-03-08", 0), ("2026-03-09", 9 * 3600)]
    # summer (7:00-19:00) and winter (8:00-18:00) hours of 市南区香港中路驿站
    summer = server.get("/api/v1/stations/shinan-0001/opening", start="2026-07-06").json()["days"]
    winter = server.get("/api/v1/stations/shinan-0001/opening", start="2026-01-05").json()["days"]
    assert summer[0]["scheduled_s"] == 12 * 3600 and winter[0]["scheduled_s"] == 10 * 3600
