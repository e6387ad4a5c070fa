"""Reading the unions' station tables (server/adapters/registration_table.py) on tables built like the
real ones (tests/fixtures/tables/builders.py): every station carries what its row said, and no row
is lost, bent or overwritten without a message naming the row, the column and the value. The
expected values are written here from the tables, not computed."""

from pathlib import Path

import pytest
from openpyxl import Workbook
from yizhan.server.adapters.registration_table import (
    LOADED,
    REFUSED,
    SKIPPED,
    WARNED,
    ImportFileError,
    Row,
    Table,
    read_table,
    report_rows,
    resolve,
)
from yizhan.server.domain.station import StationSpec

from tests.fixtures.tables import builders

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
STANDARD_DEVICES = [("door", "door_sensor"), ("water", "water_dispenser"), ("power", "power_strip"),
                    ("speaker", "smart_speaker")]  # fmt: skip


def load(path: Path, existing: dict[str, StationSpec] | None = None, update: bool = False, district=None):
    table = read_table(path, district)
    return table, resolve(table, existing or {}, update)


def row(table: Table, number: int) -> Row:
    return next(r for r in table.rows if r.number == number)


def texts(r: Row, level: str | None = None) -> str:
    return " | ".join(m.text for m in r.messages if level is None or m.level == level)


def csv_table(tmp_path: Path, lines: list[str], encoding: str = "utf-8-sig", name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def test_a_dalian_summary_table_loads_every_station_as_its_row_says(tmp_path):
    table, stations = load(builders.dalian_summary_xlsx(tmp_path))
    assert sorted(stations) == ["zhongshan-0001", "zhongshan-0002", "zhongshan-0003", "zhongshan-0004"]
    one = stations["zhongshan-0001"]
    assert (one.name, one.district, one.address) == ("中山区人民路邮政支局", "zhongshan", "人民路23号")
    assert (one.contact.name, one.contact.phone) == ("王芳", "13904112345")  # under `电话⏎（手机）`
    assert one.services == ["water", "rest", "toilet"]
    assert one.schedule == {d: ["08:30-17:30"] for d in WEEKDAYS}  # under `开放⏎时间`
    assert [(d.id, d.type) for d in one.devices] == STANDARD_DEVICES
    two = stations["zhongshan-0002"]
    assert two.schedule == {**{d: ["08:30-17:30"] for d in WEEKDAYS}, "sat": ["09:00-12:00"]}
    assert two.services == ["water", "rest", "toilet", "heat_food"] and two.note == "一楼临街"
    assert two.contact.phone == "0411-82610221"
    assert stations["zhongshan-0003"].schedule == "24h"
    four = stations["zhongshan-0004"]
    assert four.schedule == "08:00-18:00"  # 早8点-晚6点
    assert four.services == ["water", "heat_food", "rest", "toilet"]  # 饮水机、微波炉、桌椅、卫生间
    # the template's row, 合计, the footnote and the sign-off are skipped, said, and not refused
    assert [(r.number, r.status) for r in table.rows if r.status != LOADED] == [
        (8, SKIPPED), (9, SKIPPED), (10, SKIPPED), (11, SKIPPED)
    ]  # fmt: skip
    assert (
        "合计" in texts(row(table, 9))
        and "表注" in texts(row(table, 10))
        and "填表人" in texts(row(table, 11))
    )
    assert any("zhongshan" in n for n in table.notes)  # the district was read from 填报单位：中山区总工会


def test_a_header_over_two_rows_with_merged_cells(tmp_path):
    table, stations = load(builders.two_row_header_xlsx(tmp_path))
    assert sorted(stations) == ["chengyang-0001", "shinan-0001", "shinan-0002"]
    hk = stations["shinan-0001"]
    assert (hk.contact.name, hk.contact.phone) == ("张三", "0532-80000001")  # 负责人 over 姓名/电话
    assert (hk.lon, hk.lat) == (120.3826, 36.0671)  # 坐标 over 经度/纬度
    assert hk.schedule == {
        "seasons": [
            {"name": "夏季", "from": "05-01", "to": "09-30", "hours": "07:00-19:00"},
            {"name": "冬季", "from": "10-01", "to": "04-30", "hours": "08:00-18:00"},
        ]
    }
    bdg = stations["shinan-0002"]  # 区市 merged down from the row above
    assert (
        bdg.district == "shinan" and bdg.contact.name == "李四" and (bdg.lon, bdg.lat) == (120.3551, 36.0522)
    )
    assert bdg.schedule == {d: ["08:00-11:30", "13:30-17:30"] for d in (*WEEKDAYS, "sat", "sun")}
    night = stations["chengyang-0001"]
    assert night.schedule == "20:00-08:00+1"
    # half a coordinate: neither half stored, and said
    assert night.lon is None and night.lat is None
    assert row(table, 6).status == WARNED and "半个坐标" in texts(row(table, 6), "warning")
    assert "'坐标/经度' 为 '120.3963'" in texts(row(table, 6))
    assert row(table, 7).status == SKIPPED


def test_the_qingdao_navigation_form_in_gb18030(tmp_path):
    table, stations = load(builders.qingdao_navigation_csv(tmp_path))
    assert sorted(stations) == ["shibei-0001", "shibei-0002", "shibei-0003"]  # no 序号: by their place
    first = stations["shibei-0001"]
    assert (first.name, first.address, first.district) == (
        "市北区台东邮政驿站",
        "市北区台东三路50号",
        "shibei",
    )
    assert (first.contact.name, first.contact.phone) == ("刘洋", "13969800001")
    # a phone Excel turned into 1.39698E+10 has lost its digits: not stored, and said
    mangled = stations["shibei-0002"]
    assert mangled.contact.name == "陈静" and mangled.contact.phone is None
    assert "'联系电话' 为 '1.39698E+10'" in texts(row(table, 5), "warning")
    # no 开放时间 column: every row is told it has no schedule
    assert all("开放时间" in texts(r, "warning") for r in table.rows)
    assert [n for n in table.notes if "未使用的列" in n] == ["未使用的列（不导入）：'机构图片'（5列）"]


def test_four_district_tables_numbering_from_1_keep_all_their_stations(tmp_path):
    registry: dict[str, StationSpec] = {}
    for path in builders.district_tables(tmp_path):
        table, stations = load(path, registry)
        assert [r.status for r in table.rows].count(REFUSED) == 0
        registry |= stations
    assert len(registry) == 32
    assert (
        registry["shinan-0001"].name == "市南区第1驿站" and registry["laoshan-0001"].name == "崂山区第1驿站"
    )
    assert registry["licang-0008"].contact.phone == "13900000008"
    # importing a table again updates its stations and loses none
    table, again = load(builders.district_tables(tmp_path)[1], registry)
    assert sorted(again) == [f"shibei-{k:04d}" for k in range(1, 9)]
    assert all(r.status in (LOADED, SKIPPED) for r in table.rows) and "更新" in texts(table.rows[0])


def test_two_units_with_the_same_seq_are_both_refused_naming_both_rows(tmp_path):
    path = csv_table(
        tmp_path,
        [
            "序号,单位,地址,开放时间,区市",
            "1,甲驿站,一路1号,8:00-18:00,市南区",
            "3,乙驿站,二路2号,8:00-18:00,市南区",
            "3,丙驿站,三路3号,8:00-18:00,市南区",
        ],
    )
    table, stations = load(path)
    assert sorted(stations) == ["shinan-0001"]
    for number in (3, 4):
        assert row(table, number).status == REFUSED
        assert "第 3、4 行的编号都是 shinan-0003" in texts(row(table, number), "refusal")
        assert "'序号' 为 '3'" in texts(row(table, number))


def test_a_row_that_would_replace_another_station_is_refused_unless_update(tmp_path):
    existing = {"shinan-0002": StationSpec(name="老驿站", district="shinan", address="老路9号")}
    path = csv_table(tmp_path, ["序号,单位,地址,开放时间,区市", "2,新驿站,新路1号,8:00-18:00,市南区"])
    table, stations = load(path, existing)
    assert stations == {} and row(table, 2).status == REFUSED
    message = texts(row(table, 2), "refusal")
    assert "'老驿站'（老路9号）" in message and "'新驿站'（新路1号）" in message and "--update" in message
    table, stations = load(path, existing, update=True)
    assert stations["shinan-0002"].name == "新驿站" and row(table, 2).status == WARNED
    assert "原为 '老驿站'" in texts(row(table, 2), "warning")


def test_a_registered_station_keeps_its_id_when_the_table_is_renumbered(tmp_path):
    existing = {
        "st-0007": StationSpec(name="甲驿站", district="shinan", address="一路1号"),  # an earlier import's id
        "shinan-0001": StationSpec(name="乙驿站", district="shinan", address="二路2号"),
    }
    path = csv_table(
        tmp_path,
        [
            "序号,单位,地址,开放时间,区市",
            "1,甲驿站,一路1号,8:00-18:00,市南区",
            "2,乙驿站,二路2号,9:00-17:00,市南区",
        ],
    )
    table, stations = load(path, existing)
    assert sorted(stations) == ["shinan-0001", "st-0007"]
    assert stations["st-0007"].schedule == "08:00-18:00" and stations["shinan-0001"].schedule == "09:00-17:00"
    assert "沿用其编号" in texts(row(table, 2)) and "沿用其编号" in texts(row(table, 3))


def test_clerk_mistakes_are_said_per_row_with_the_column_and_the_value(tmp_path):
    path = csv_table(
        tmp_path,
        [
            '序号,单位,地址,"电话\n（手机）",基本服务功能,开放时间,经度,纬度,区市,机构图片',
            "1,空时间驿站,一路,13800000001,饮水,,120.1,36.1,市南区,",
            "2,看不懂驿站,二路,13800000002,饮水,随时,120.1,36.1,市南区,",
            "3,设施驿站,三路,1.38E+10,饮水机、冷暖空调、心理咨询,8:00-18:00,120.1,,市南区,",
            "4,反坐标驿站,四路,80001,饮水,8:00-18:00,36.2,120.2,市南区,",
            "5,火星驿站,五路,13800000005,饮水,8:00-18:00,,,火星区,",
            ",没序号驿站,六路,13800000006,饮水,8:00-18:00,,,市南区,",
        ],
    )
    table, stations = load(path)
    empty = row(table, 2)  # an empty 开放时间 loads, with what it means
    assert empty.status == WARNED and "'开放时间' 为空" in texts(empty, "warning")
    assert stations["shinan-0001"].schedule is None
    unreadable = row(table, 3)  # unreadable hours: the station would be wrong, so it is refused
    assert unreadable.status == REFUSED and "'开放时间' 为 '随时'" in texts(unreadable, "refusal")
    facilities = stations["shinan-0003"]
    assert facilities.services == ["water", "air_conditioning"]  # 饮水机 is water; 心理咨询 is no service
    assert facilities.note == "基本服务功能：心理咨询"
    assert "'心理咨询' 不是已知的服务或设施" in texts(row(table, 4), "warning")
    assert facilities.contact is None and "'电话（手机）' 为 '1.38E+10'" in texts(row(table, 4))
    assert facilities.lon is None and facilities.lat is None and "半个坐标" in texts(row(table, 4))
    swapped = stations["shinan-0004"]
    assert (swapped.lon, swapped.lat) == (120.2, 36.2) and "填反" in texts(row(table, 5), "warning")
    assert "不到 7 位数字" in texts(row(table, 5), "warning")
    assert row(table, 6).status == REFUSED and "'区市' 为 '火星区'" in texts(row(table, 6), "refusal")
    assert row(table, 7).status == REFUSED and "'序号' 为空" in texts(row(table, 7), "refusal")
    assert table.notes == ["未使用的列（不导入）：'机构图片'（10列）"]


def test_section_headings_give_their_district_and_headers_take_synonyms(tmp_path):
    path = csv_table(
        tmp_path,
        [
            "站点名称,所在地址,联系人,联系电话,服务时间,设施,备注",
            "一、市南区（2家）,,,,,,",
            "南一驿站,南一路,甲,13800000001,8:00-18:00,饮水机、雨伞,",
            "南二驿站,南二路,乙,13800000002,8:00-18:00,微波炉,",
            "二、李沧区（1家）,,,,,,",
            "沧一驿站,沧一路,丙,13800000003,8:00-18:00,充电,有保安",
            "合计：3家,,,,,,",
        ],
    )
    table, stations = load(path)
    assert sorted(stations) == ["licang-0003", "shinan-0001", "shinan-0002"]
    assert stations["shinan-0001"].services == ["water", "umbrella"]
    assert stations["licang-0003"].services == ["charging"] and stations["licang-0003"].note == "有保安"
    assert [r.status for r in table.rows] == [SKIPPED, LOADED, LOADED, SKIPPED, LOADED, SKIPPED]


def test_utf16_tab_text_from_excel_and_a_district_given_on_the_command_line(tmp_path):
    path = tmp_path / "unicode.txt"
    path.write_bytes("序号\t单位\t开放时间\n1\t驿站甲\t周一至周六 8:00-18:00\n".encode("utf-16"))
    _, stations = load(path, district="崂山区")
    assert stations["laoshan-0001"].schedule == {d: ["08:00-18:00"] for d in (*WEEKDAYS, "sat")}
    with pytest.raises(ImportFileError, match="--district"):
        read_table(path, "火星区")


def test_a_second_sheet_with_stations_is_named_not_silently_left_out(tmp_path):
    book = Workbook()
    book.active.append(["序号", "单位", "区市", "开放时间"])
    book.active.append([1, "甲驿站", "市南区", "8:00-18:00"])
    other = book.create_sheet("李沧区")
    other.append(["序号", "单位", "区市", "开放时间"])
    path = tmp_path / "two.xlsx"
    book.save(path)
    table, stations = load(path)
    assert list(stations) == ["shinan-0001"] and "'李沧区'" in table.notes[0]


def test_the_report_has_a_status_column_in_chinese_and_the_row_as_written(tmp_path):
    table, _ = load(builders.dalian_summary_xlsx(tmp_path))
    lines = report_rows(table)
    assert lines[0][:5] == ["行号", "状态", "说明", "站点编号", "开放时间（导入后）"]
    assert lines[0][5:] == [
        "序号",
        "单位",
        "地址",
        "负责人",
        "电话（手机）",
        "基本服务功能",
        "开放时间",
        "备注",
    ]
    by_row = {line[0]: line for line in lines[1:]}
    assert by_row[5][1:5] == [
        LOADED,
        "新登记为 zhongshan-0002",
        "zhongshan-0002",
        "周一至周五 8:30-17:30；周六 9:00-12:00；周日休息",
    ]
    assert by_row[9][1] == SKIPPED and by_row[9][5] == "合计"


def test_files_that_are_no_table_are_refused_as_a_whole(tmp_path):
    with pytest.raises(ImportFileError, match="no such file"):
        read_table(tmp_path / "missing.csv")
    (tmp_path / "x.xlsx").write_bytes(b"not a zip")
    with pytest.raises(ImportFileError):
        read_table(tmp_path / "x.xlsx")
    (tmp_path / "no-header.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ImportFileError, match="header"):
        read_table(tmp_path / "no-header.csv")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ImportFileError, match=r"\.xlsx"):
        read_table(tmp_path / "old.xls")
