"""`yizhan stations import` end to end: through a running server, or into the registry file."""

import subprocess
import sys

from tests.conftest import REPO

TABLE = (
    "序号,单位,地址,负责人,电话（手机）,基本服务功能,开放时间,备注,区市\n"
    "1,市南区香港中路驿站,香港中路8号,张三,0532-80000000,饮水、歇脚、如厕,07:00-19:00,,市南区\n"
    "2,坏行驿站,,,,饮水,随时,,市南区\n"
    "3,城阳驿站,,,,充电,24小时,,chengyang\n"
)


def run_import(env, *args):
    cmd = [sys.executable, "-m", "yizhan", "stations", "import", *args]
    return subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=60)


def test_import_into_a_running_server_reports_bad_rows_and_loads_the_good_ones(server, tmp_path):
    table = tmp_path / "汇总表.csv"
    table.write_text(TABLE, encoding="utf-8-sig")
    result = run_import(server.env(), str(table), "--api", server.url)
    assert result.returncode == 1
    assert "row 3:" in result.stderr and "'开放时间' 为 '随时'" in result.stderr
    assert "2 stations loaded" in result.stdout
    listed = {s["id"]: s for s in server.get("/api/v1/stations").json()}
    # ids: district + 序号
    assert set(listed) == {"shinan-0001", "chengyang-0003"} and listed["shinan-0001"]["district"] == "shinan"
    assert server.get("/api/v1/stations/chengyang-0003").json()["schedule"] == "24h"


def test_import_without_a_server_writes_the_registry_the_server_starts_from(make_server, tmp_path):
    server = make_server(start=False)
    table = tmp_path / "t.csv"
    table.write_text(TABLE, encoding="utf-8")
    result = run_import(server.env(), str(table))
    assert result.returncode == 1 and "registry.sqlite" in result.stdout
    server.start()
    assert sorted(s["id"] for s in server.get("/api/v1/stations").json()) == ["chengyang-0003", "shinan-0001"]


def test_an_unreadable_file_exits_2_with_a_clear_message(server, tmp_path):
    result = run_import(server.env(), str(tmp_path / "nope.xlsx"))
    assert result.returncode == 2 and "no such file" in result.stderr
