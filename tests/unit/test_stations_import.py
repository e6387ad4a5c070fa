"""Reading the union's registration table (pure parsing; files are written to tmp_path)."""

import pytest
from openpyxl import Workbook
from yizhan.server.adapters.registration_table import (
    ImportFileError,
    parse_hours,
    parse_services,
    read_stations,
)

HEADER = "序号,单位,地址,负责人,电话（手机）,基本服务功能,开放时间,备注,区市,经度,纬度"


def write_csv(path, rows, encoding="utf-8-sig"):
    path.write_bytes("\n".join([HEADER, *rows]).encode(encoding))
    return path


def test_a_chinese_table_with_bom_loads_with_services_hours_contact_and_standard_devices(tmp_path):
    path = write_csv(
        tmp_path / "t.csv",
        [
            "1,市南区香港中路驿站,香港中路8号,张三,0532-80000000,饮水、歇脚、如厕,7:00—19:00,,市南区,120.38,36.06"
        ],
    )
    stations, errors = read_stations(path)
    assert errors == []
    spec = stations["st-0001"]
    assert spec.name == "市南区香港中路驿站" and spec.district == "shinan"
    assert spec.services == ["water", "rest", "toilet"] and spec.schedule == "07:00-19:00"
    assert spec.contact.name == "张三" and spec.lat == 36.06 and spec.lon == 120.38
    assert [d.type for d in spec.devices] == [
        "door_sensor",
        "water_dispenser",
        "power_strip",
        "smart_speaker",
    ]


def test_bad_rows_are_reported_with_their_row_number_and_the_good_rows_still_load(tmp_path):
    path = write_csv(
        tmp_path / "t.csv",
        [
            "1,好驿站,,,,饮水,08:00-18:00,,shibei,,",
            "2,坏驿站,,,,饮水,早上开门,,shibei,,",
            ",没有序号驿站,,,,饮水,08:00-18:00,,shibei,,",
            "4,未知区驿站,,,,饮水,08:00-18:00,,火星区,,",
            "5,坐标错驿站,,,,饮水,08:00-18:00,,shibei,东经,",
            ",,,,,,,,,,",
            "7,全天驿站,,,,充电,24小时,,shibei,,",
        ],
    )
    stations, errors = read_stations(path)
    assert sorted(stations) == ["st-0001", "st-0007"]
    assert stations["st-0007"].schedule == "24h"
    by_row = {e.row: e.message for e in errors}
    assert set(by_row) == {3, 4, 5, 6}
    assert "开放时间" in by_row[3] and "序号" in by_row[4] and "区市" in by_row[5] and "经度" in by_row[6]


def test_gb18030_csv_from_excel_and_english_headers_are_read(tmp_path):
    gbk = write_csv(tmp_path / "gbk.csv", ["1,驿站甲,,,,饮水,08:00-18:00,,laoshan,,"], encoding="gb18030")
    assert read_stations(gbk)[0]["st-0001"].name == "驿站甲"
    en = tmp_path / "en.csv"
    en.write_text(
        "id,name,hours,district,devices\nqd-9,Station Nine,07:00-11:00;13:00-19:00,jimo,门磁、插座\n"
    )
    spec = read_stations(en)[0]["qd-9"]
    assert spec.schedule["mon"] == ["07:00-11:00", "13:00-19:00"]
    assert [(d.id, d.type) for d in spec.devices] == [("door", "door_sensor"), ("power", "power_strip")]


def test_xlsx_with_a_title_row_above_the_header(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["大连市职工“温馨家园”申报汇总表"])
    sheet.append(HEADER.split(","))
    sheet.append(
        [
            1,
            "西岗区驿站",
            "地址",
            "李四",
            "13800000000",
            "饮水、热饭",
            "7:30-19:00",
            "",
            "西岗区",
            121.6,
            38.9,
        ]
    )
    path = tmp_path / "t.xlsx"
    book.save(path)
    stations, errors = read_stations(path)
    assert errors == [] and stations["st-0001"].district == "xigang"
    assert (
        stations["st-0001"].services == ["water", "heat_food"]
        and stations["st-0001"].contact.phone == "13800000000"
    )


def test_a_file_that_is_not_a_table_is_refused_as_a_whole(tmp_path):
    with pytest.raises(ImportFileError):
        read_stations(tmp_path / "missing.csv")
    (tmp_path / "x.xlsx").write_bytes(b"not a zip")
    with pytest.raises(ImportFileError):
        read_stations(tmp_path / "x.xlsx")
    (tmp_path / "no-header.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ImportFileError, match="header"):
        read_stations(tmp_path / "no-header.csv")


def test_hours_and_services_words():
    assert parse_hours("全天") == "24h"
    assert parse_hours("8：00～18：00") == "08:00-18:00"
    with pytest.raises(ValueError, match="开放时间"):
        parse_hours("周一至周五 8:00-18:00")
    assert parse_services("饮水，歇脚 如厕、WiFi") == ["water", "rest", "toilet", "WiFi"]
