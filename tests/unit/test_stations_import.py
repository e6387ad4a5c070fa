"""`yizhan stations import` in process, straight into a registry in a temporary data directory: exit
codes, what is printed, `--update`, `--report`, `--dry-run`, and the older entry points."""

from pathlib import Path

import pytest
from openpyxl import load_workbook
from yizhan.server.adapters.registration_table import parse_hours, parse_services, read_stations
from yizhan.server.adapters.sqlite.registry import Registry
from yizhan.server.entrypoints.cli.stations import main, run_import

from tests.fixtures.tables import builders
from yizhan.localstack import free_port

HEADER = "序号,单位,地址,负责人,电话（手机）,基本服务功能,开放时间,备注,区市"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("YZ_DATA_DIR", str(data))
    monkeypatch.setenv("YZ_HTTP_PORT", str(free_port()))  # no server answers: the registry file is used
    return data


def registered(data_dir: Path) -> dict:
    registry = Registry(data_dir / "registry.sqlite")
    try:
        return registry.stations()
    finally:
        registry.close()


def write(tmp_path: Path, name: str, rows: list[str]) -> str:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8-sig")
    return str(path)


def test_a_clean_table_with_a_total_row_exits_0(data_dir, tmp_path, capsys):
    table = write(
        tmp_path,
        "t.csv",
        [
            "1,市南区香港中路驿站,香港中路8号,张三,0532-80000000,饮水、歇脚、如厕,7:00—19:00,,市南区",
            "合计,共1家,,,,,,,",
        ],
    )
    assert run_import(table) == 0
    out, err = capsys.readouterr()
    assert "import: 1 stations loaded into" in out and "0 rows refused" in out and "1 rows skipped" in out
    assert "import: row 3: 已跳过 — 不是站点：合计行" in err
    spec = registered(data_dir)["shinan-0001"]
    assert (spec.name, spec.schedule, spec.services) == (
        "市南区香港中路驿站",
        "07:00-19:00",
        ["water", "rest", "toilet"],
    )


def test_refused_rows_exit_1_and_name_the_row_the_column_and_the_value(data_dir, tmp_path, capsys):
    table = write(
        tmp_path, "t.csv", ["1,好驿站,,,,饮水,08:00-18:00,,市北区", "2,坏驿站,,,,饮水,早上开门,,市北区"]
    )
    assert run_import(table) == 1
    _, err = capsys.readouterr()
    assert "import: row 3: 未导入 — '开放时间' 为 '早上开门'" in err
    assert sorted(registered(data_dir)) == ["shibei-0001"]


def test_nothing_loaded_exits_2(data_dir, tmp_path, capsys):
    assert run_import(write(tmp_path, "t.csv", ["1,坏驿站,,,,饮水,随时,,市北区"])) == 2
    assert run_import(str(tmp_path / "nope.xlsx")) == 2
    assert "no such file" in capsys.readouterr().err


def test_a_different_station_on_a_registered_id_needs_update(data_dir, tmp_path, capsys):
    assert run_import(write(tmp_path, "a.csv", ["1,甲驿站,一路1号,,,饮水,8:00-18:00,,市南区"])) == 0
    replacing = write(tmp_path, "b.csv", ["1,乙驿站,二路2号,,,饮水,9:00-17:00,,市南区"])
    assert run_import(replacing) == 2
    assert "'甲驿站'（一路1号）" in capsys.readouterr().err
    assert registered(data_dir)["shinan-0001"].name == "甲驿站"
    assert run_import(replacing, update=True) == 0
    assert "警告 — 编号 shinan-0001 原为 '甲驿站'" in capsys.readouterr().err
    assert registered(data_dir)["shinan-0001"].name == "乙驿站"


def test_the_report_lists_every_row_with_its_status_in_chinese(data_dir, tmp_path):
    report = tmp_path / "结果.xlsx"
    source = builders.dalian_summary_xlsx(tmp_path)
    assert main([str(source), "--report", str(report), "--dry-run"]) == 0
    assert registered(data_dir) == {}  # a dry run loads nothing
    sheet = load_workbook(report)["导入结果"]
    lines = list(sheet.iter_rows(values_only=True))
    assert lines[0][:4] == ("行号", "状态", "说明", "站点编号")
    assert [(line[0], line[1]) for line in lines[1:]] == [
        (4, "已导入"), (5, "已导入"), (6, "已导入"), (7, "已导入"),
        (8, "已跳过"), (9, "已跳过"), (10, "已跳过"), (11, "已跳过"),
    ]  # fmt: skip
    assert lines[4][3] == "zhongshan-0004" and lines[4][6] == "中山区老虎滩环卫工人之家"


def test_the_older_entry_points_still_read_a_table(tmp_path):
    stations, errors = read_stations(
        Path(write(tmp_path, "t.csv", ["1,驿站甲,,,,饮水,8：00～18：00,,laoshan"]))
    )
    assert errors == [] and stations["laoshan-0001"].schedule == "08:00-18:00"
    assert parse_hours("全天") == "24h"
    assert parse_hours("周一至周五 8:00-18:00")["fri"] == ["08:00-18:00"]
    with pytest.raises(ValueError, match="开放时间"):
        parse_hours("早上开门")
    assert parse_services("饮水，歇脚 如厕、WiFi、心理咨询") == ["water", "rest", "toilet", "wifi"]
