"""Reading the unions' station tables (申报汇总表, 阵地导航汇总表) into station bodies, row by row.

Nothing is lost or bent without a word. Every row ends as 已导入 (loaded), 有警告 (loaded, with
what the clerk should check), 已跳过 (not a station: a 合计 row, a 注 footnote, 填表人 …) or 未导入
(refused), with messages that name the row as the spreadsheet numbers it, the column as the clerk
printed it, and the value. CSV (UTF-8 with or without BOM, GB18030, UTF-16 "Unicode text") and
XLSX (merged cells filled in) are read; headers as clerks print them (line breaks, spaces, a
header over two rows, the Qingdao 阵地导航 names, common synonyms).

Ids (`resolve`): `站点编号` when the row has one; else the id of the station already registered
in the same district under the same name and address (a re-sorted or re-numbered table keeps its
stations, and so do ids given by earlier imports); else district + 序号, `shinan-0007` (the row's
place among the stations when the table has no 序号). A row that would replace a different
registered station is refused, naming both, unless the import is told to (`update`); rows of
one file that come to the same id, or twice the same station, are all refused.
"""

import csv
import io
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from yizhan.protocol.ids import is_valid_id
from yizhan.server.domain.facilities import services_of
from yizhan.server.domain.schedule import ScheduleError, parse_clerk_hours
from yizhan.server.domain.station import StationSpec

LOADED, WARNED, SKIPPED, REFUSED = "已导入", "有警告", "已跳过", "未导入"

# The headers clerks print, by the field they fill. Compared after `header_key`: no spaces or line
# breaks, half-width brackets, no trailing colon or required-mark, English lower-case; a header
# not found as it is is looked up again without its bracketed part (`开放时间（如8:00-18:00）`).
HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "seq": ("序号", "编号", "序", "no", "no.", "seq"),
    "id": ("站点编号", "驿站编号", "站点代码", "站点id", "id"),
    # station names first: with both 站点名称 and 单位名称, the first is the name, the other a note
    "name": ("站点名称", "驿站名称", "服务站名称", "服务站点名称", "温馨家园名称", "名称", "单位", "单位名称",
             "申报单位", "申报单位名称", "依托单位", "所在单位", "站点", "驿站", "name"),
    "address": ("地址", "详细地址", "站点地址", "具体地址", "所在地址", "详细位置", "地点", "位置",
                "address"),
    "contact_name": ("负责人", "联系人", "负责人姓名", "联系人姓名", "管理人员", "管理员", "管理人", "站长",
                     "姓名", "contact_name", "contact"),
    "phone": ("电话(手机)", "电话", "手机", "联系电话", "手机号", "手机号码", "电话号码", "联系方式",
              "负责人电话", "联系人电话", "负责人手机", "联系人手机", "负责人联系电话", "座机", "phone",
              "tel"),
    "services": ("基本服务功能", "服务功能", "服务内容", "服务项目", "特色服务功能", "特色服务", "提供服务",
                 "功能", "services"),
    "facilities": ("设施", "服务设施", "配备设施", "基础设施", "设施配备", "配套设施", "设施设备", "配置",
                   "facilities"),
    "hours": ("开放时间", "开放时段", "开放时间段", "服务时间", "营业时间", "办公时间", "工作时间", "hours",
              "schedule"),
    "note": ("备注", "说明", "note"),
    "district": ("区市", "区(市)", "区市县", "区(市、县)", "所属区市", "区县", "所属区县", "所属区域", "区域",
                 "辖区", "所在区", "所属区", "district"),
    "lon": ("经度", "坐标经度", "位置经度", "lon", "lng", "longitude"),
    "lat": ("纬度", "坐标纬度", "位置纬度", "lat", "latitude"),
    "coords": ("坐标", "经纬度", "经纬度坐标", "位置坐标", "坐标(经度,纬度)", "gps"),
    "devices": ("设备", "智能设备", "devices"),
}  # fmt: skip
# Words of a second header row that fill no field but show that the row is one (负责人 / 姓名 职务 电话).
SUB_HEADER_WORDS = ("职务", "固话", "微信", "邮箱")
# Columns that may appear more than once; their cells are joined.
MULTI = ("services", "facilities", "note", "phone")

DEVICE_WORDS = {
    "门磁": ("door", "door_sensor"),
    "饮水机": ("water", "water_dispenser"),
    "插座": ("power", "power_strip"),
    "电源插座": ("power", "power_strip"),
    "多功能电源插座": ("power", "power_strip"),
    "音箱": ("speaker", "smart_speaker"),
    "智能音箱": ("speaker", "smart_speaker"),
    "小度音箱": ("speaker", "smart_speaker"),
    "网关": ("gateway", "gateway"),
}
STANDARD_DEVICES = [("door", "door_sensor"), ("water", "water_dispenser"), ("power", "power_strip"),
                    ("speaker", "smart_speaker")]  # fmt: skip

DISTRICT_WORDS = {
    "市南区": "shinan", "市北区": "shibei", "李沧区": "licang", "崂山区": "laoshan",
    "城阳区": "chengyang", "黄岛区": "huangdao", "西海岸新区": "huangdao", "青西新区": "huangdao",
    "即墨区": "jimo", "胶州市": "jiaozhou", "平度市": "pingdu", "莱西市": "laixi", "中山区": "zhongshan",
    "西岗区": "xigang", "沙河口区": "shahekou", "甘井子区": "ganjingzi", "旅顺口区": "lvshunkou",
    "金州区": "jinzhou", "普兰店区": "pulandian", "瓦房店市": "wafangdian", "庄河市": "zhuanghe",
    "长海县": "changhai",
}  # fmt: skip
_DISTRICT_NAMES = sorted(DISTRICT_WORDS, key=len, reverse=True)

HOURS_HELP = "可以写 8:30-17:30、周一至周五 8:30-17:30，周六 9:00-12:00、全天24小时、20:00-次日8:00、夏季（5月1日-9月30日）7:00-19:00，冬季（10月1日-4月30日）8:00-18:00"  # noqa: E501

_SUMMARY = re.compile(r"^(合计|总计|小计|共计|总数|累计)|^共\d+(家|个|处|座|所|站)|^计\d+(家|个|处)")
_FOOTNOTE = re.compile(r"^(注|附注|备注|说明|填表说明|填报说明)[\d一二三四五六七八九十①-⑩]*[:：、.．]|^[*※]")
_SIGN_OFF = re.compile(
    r"^(填表人|填报人|制表人|审核人|审批人|统计人|经办人|核稿人|负责人签字|单位负责人|主要负责人|分管领导"
    r"|填报日期|填表日期|报送日期|制表日期|日期|填报单位|报送单位|单位名称|联系人|联系电话)[^:：]{0,6}[:：]"
    r"|盖章|公章|签字|签名"
)
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?e\+?\d+$", re.IGNORECASE)
_PHONE_SPLIT = re.compile(r"[、,，;；/\s]+")
_LIST_SPLIT = re.compile(r"[、，,;；/\s]+")


class ImportFileError(Exception):
    """The file as a whole cannot be read (missing, wrong format, no header row)."""


@dataclass
class Message:
    level: str  # "note" | "warning" | "refusal" | "skip"
    text: str


@dataclass
class Column:
    index: int
    header: str  # as the clerk printed it, line breaks taken out
    field: str | None
    letter: str  # A, B, … (XLSX) or the position (CSV)


@dataclass
class Row:
    number: int  # as the spreadsheet numbers it
    cells: list[str]
    messages: list[Message] = field(default_factory=list)
    skipped: bool = False
    name: str = ""
    address: str = ""
    district: str = ""
    seq: str = ""  # 序号 as written, or the row's place among the stations without a 序号 column
    seq_column: str = "序号"
    explicit_id: str | None = None
    station_id: str | None = None
    spec: StationSpec | None = None

    @property
    def status(self) -> str:
        if self.skipped:
            return SKIPPED
        if any(m.level == "refusal" for m in self.messages):
            return REFUSED
        if any(m.level == "warning" for m in self.messages):
            return WARNED
        return LOADED

    @property
    def ok(self) -> bool:
        return not self.skipped and self.spec is not None and self.status != REFUSED

    def add(self, level: str, text: str) -> None:
        self.messages.append(Message(level, text))

    def refuse(self, text: str) -> None:
        self.add("refusal", text)


@dataclass
class Table:
    path: Path
    sheet: str | None
    header_rows: tuple[int, int]
    columns: list[Column]
    rows: list[Row]
    notes: list[str] = field(default_factory=list)  # about the file: unused columns, sheets, districts

    def stations(self) -> dict[str, StationSpec]:
        return {r.station_id: r.spec for r in self.rows if r.ok and r.station_id and r.spec}


# --- cells ----------------------------------------------------------------------------------------


def header_key(cell: Any) -> str:
    text = unicodedata.normalize("NFKC", str(cell or ""))
    text = re.sub(r"\s+", "", text).strip("*※:：")
    return text.lower()


def _field_of_key(key: str) -> str | None:
    if not key:
        return None
    for name, words in HEADER_WORDS.items():
        if key in words:
            return name
    bare = re.sub(r"\(.*?\)", "", key).strip(":")
    if bare != key:
        return _field_of_key(bare)
    return None


def header_field(cell: Any) -> str | None:
    """The field a header cell fills, or None."""
    return _field_of_key(header_key(cell))


def _flat(value: Any) -> str:
    """A cell as one line of text: line breaks joined (without a space between Chinese characters),
    full-width and no-break spaces as spaces."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == time(0) else value
    if isinstance(value, time):
        return f"{value.hour}:{value.minute:02d}"
    text = str(value).replace("\u3000", " ").replace("\xa0", " ").replace("\r", "\n")
    text = re.sub(r"(?<=[^\x00-\x7f])\n+|\n+(?=[^\x00-\x7f])", "", text)  # 电话⏎（手机） is 电话（手机）
    return re.sub(r"[ \t\n]+", " ", text).strip()


def comparable(text: str) -> str:
    """For comparing names and addresses: no spaces, no punctuation, one width, one case."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return re.sub(r"[\s\"'“”‘’·.,，、()（）\-—_]+", "", text)


def _letter(n: int) -> str:
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


@dataclass
class _Grid:
    sheet: str | None
    rows: list[tuple[int, list[Any]]]
    across: set[tuple[int, int]]  # cells filled from a merge to their left (row number, column)


def _csv_grids(path: Path) -> list[_Grid]:
    raw = path.read_bytes()
    # a byte-order mark of UTF-16: Excel's "Unicode text" (with tabs)
    utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff"))
    encodings = ["utf-16"] if utf16 else ["utf-8-sig", "gb18030"]
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(
            f"{path}: neither UTF-8 nor GB18030 text (请在 Excel 中另存为 CSV UTF-8 或 .xlsx)"
        )
    head = text[:4000]
    delimiter = "\t" if head.count("\t") > head.count(",") else ","
    rows = list(enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1))
    return [_Grid(None, [(n, list(r)) for n, r in rows], set())]


def _xlsx_grids(path: Path) -> list[_Grid]:
    from openpyxl import load_workbook

    try:
        # not read-only: merged cells are only known to a fully loaded sheet
        book = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ImportFileError(f"{path}: not a readable XLSX file ({exc})") from None
    grids = []
    try:
        for sheet in book.worksheets:
            if sheet.sheet_state != "visible":
                continue
            width = sheet.max_column
            rows = [list(r) for r in sheet.iter_rows(min_row=1, min_col=1, max_col=width, values_only=True)]
            across: set[tuple[int, int]] = set()
            for merged in sheet.merged_cells.ranges:
                value = rows[merged.min_row - 1][merged.min_col - 1]
                for r in range(merged.min_row, merged.max_row + 1):
                    for c in range(merged.min_col, merged.max_col + 1):
                        rows[r - 1][c - 1] = value
                        if c != merged.min_col:
                            across.add((r, c - 1))
            grids.append(_Grid(sheet.title, list(enumerate(rows, start=1)), across))
    finally:
        book.close()
    return grids


def _grids(path: Path) -> list[_Grid]:
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_grids(path)
    if suffix in (".csv", ".txt"):
        return _csv_grids(path)
    if suffix in (".xls", ".et", ".wps"):
        raise ImportFileError(f"{path}: expected a .csv or .xlsx file (请在 Excel/WPS 中另存为 .xlsx)")
    raise ImportFileError(f"{path}: expected a .csv or .xlsx file")


# --- the header -----------------------------------------------------------------------------------


def _find_header(grid: _Grid) -> tuple[int, int, list[Column], list[str]] | None:
    """(index of the first header row, of the last, the columns, notes) or None when no row of the
    first 50 names a station column and at least one other."""
    rows = grid.rows
    for i, (_, cells) in enumerate(rows[:50]):
        fields = [header_field(c) for c in cells]
        if "name" not in fields or sum(1 for f in fields if f) < 2:
            continue
        width = max(len(cells), *(len(r) for _, r in rows[i : i + 2]))
        top = [_flat(c) for c in cells] + [""] * (width - len(cells))
        above = [_flat(c) for c in rows[i - 1][1]] if i > 0 else []
        below_cells = rows[i + 1][1] if i + 1 < len(rows) else []
        below = [_flat(c) for c in below_cells] + [""] * (width - len(below_cells))
        two_rows = _is_sub_header(below, top)
        columns, notes = _columns(top, below if two_rows else [""] * width, above, grid.sheet is not None)
        return i, i + (1 if two_rows else 0), columns, notes
    return None


def _is_sub_header(below: list[str], top: list[str]) -> bool:
    """A second header row: every cell in it is a header word (or repeats the merged cell above)."""
    said = [(b, t) for b, t in zip(below, top, strict=False) if b]
    return (
        bool(said)
        and any(b != t for b, t in said)
        and all(b == t or header_field(b) or header_key(b) in SUB_HEADER_WORDS for b, t in said)
    )


def _columns(
    top: list[str], below: list[str], above: list[str], xlsx: bool
) -> tuple[list[Column], list[str]]:
    columns: list[Column] = []
    taken: dict[str, Column] = {}
    unused: list[str] = []
    for n, (t, b) in enumerate(zip(top, below, strict=True)):
        letter = _letter(n) if xlsx else str(n + 1)
        candidates = [t + b, b, t] if b and b != t else [t]
        if not t and n < len(above) and above[n]:
            candidates.append(above[n])  # a label over two rows, merged, exported to CSV
        header = "/".join(x for x in dict.fromkeys([t, b]) if x) or (above[n] if n < len(above) else "")
        fill = next((f for f in map(header_field, candidates) if f), None)
        if fill and fill not in MULTI and fill in taken:
            if fill == "name":
                columns.append(Column(n, header, "named_note", letter))
                continue
            unused.append(f"'{header}'（{letter}列，与 '{taken[fill].header}' 重复）")
            fill = None
        column = Column(n, header, fill, letter)
        if fill:
            taken.setdefault(fill, column)
        elif header:
            unused.append(f"'{header}'（{letter}列）")
        columns.append(column)
    notes = [f"未使用的列（不导入）：{'，'.join(unused)}"] if unused else []
    return columns, notes


# --- rows that are not stations -------------------------------------------------------------------


def district_of(text: str) -> str | None:
    """A district id from an id (`shinan`) or a name (市南区, 市南, 青岛市市南区总工会); None if unknown."""
    text = _flat(text)
    if not text:
        return None
    if text.isascii():
        return text.lower() if is_valid_id(text.lower()) else None
    compact = re.sub(r"\s+", "", text)
    for candidate in (compact, compact + "区", compact + "市", compact + "县"):
        if candidate in DISTRICT_WORDS:
            return DISTRICT_WORDS[candidate]
    found = {DISTRICT_WORDS[n] for n in _DISTRICT_NAMES if n in compact}
    return found.pop() if len(found) == 1 else None


def _skip_reason(cells: list[str], columns: list[Column]) -> tuple[str, str | None] | None:
    """(why the row is no station, the district a section heading starts) or None for a station row;
    ("", None) for an empty row."""
    said = [(i, c) for i, c in enumerate(cells) if c]
    if not said:
        return "", None
    first = re.sub(r"\s+", "", said[0][1])
    heads = [re.sub(r"\s+", "", c) for _, c in said[:3]]
    shown = " ".join(c for _, c in said[:3])[:40]
    if any(_SUMMARY.search(h) for h in heads):
        return f"合计行 '{shown}'", None
    if _FOOTNOTE.search(first):
        return f"表注 '{said[0][1][:40]}'", None
    if _SIGN_OFF.search(first):
        return f"签署行 '{shown}'", None
    field_at = {c.index: c.field for c in columns}
    if sum(1 for i, c in said if field_at.get(i) and header_field(c) == field_at[i]) >= 2:
        return "重复的表头", None
    if "name" in {field_at.get(i) for i, _ in said}:
        return _district_heading(said)
    # no name: an unfilled template row (序号 and the pre-printed 饮水、歇脚、如厕), or a heading
    if all(field_at.get(i) in ("seq", "services", "facilities") for i, _ in said):
        return f"未填写的空行 '{shown}'", None
    distinct = list(dict.fromkeys(c for _, c in said))
    if len(distinct) == 1:
        heading = _district_heading(said)
        return heading or (f"标题行 '{distinct[0][:40]}'", None)
    return None


def _district_heading(said: list[tuple[int, str]]) -> tuple[str, str | None] | None:
    """A row holding only a district's name (一、市南区（12家）): the heading of that district's rows."""
    distinct = list(dict.fromkeys(c for _, c in said))
    if len(distinct) != 1:
        return None
    bare = re.sub(r"\s+", "", distinct[0])
    bare = re.sub(r"^[一二三四五六七八九十\d]+[、.．]|[(（]\d+\s*(家|个|处)[)）]$|总工会$", "", bare)
    if any(bare == n or bare + "区" == n or bare + "市" == n for n in DISTRICT_WORDS):
        return f"分区标题 '{distinct[0]}'", district_of(bare)
    return None


# --- one row ---------------------------------------------------------------------------------------


@dataclass
class _Context:
    default_district: str | None  # from --district
    title_district: str | None  # from the rows above the header
    section_district: str | None = None  # from the last 分区标题 row
    title_used: bool = False
    has_seq: bool = True
    position: int = 0  # stations so far, for tables without 序号


def _said(header: str, value: str) -> str:
    return f"'{header}' 为 '{value}'" if value else f"'{header}' 为空"


def _coordinate(text: str) -> float | None:
    t = unicodedata.normalize("NFKC", text).strip().upper()
    dms = re.fullmatch(
        r"[东西南北经纬度ENWS\s]*(\d+)\s*°\s*(\d+)\s*['′]\s*(?:(\d+(?:\.\d+)?)\s*[\"″]?)?\s*[ENWS]?", t
    )
    if dms:
        return int(dms.group(1)) + int(dms.group(2)) / 60 + float(dms.group(3) or 0) / 3600
    t = re.sub(r"^(东经|北纬|经度|纬度|E|N)\s*|\s*(°|度)?\s*(E|N)?$", "", t)
    try:
        return float(t)
    except ValueError:
        return None


def _coordinates(row: Row, cols: dict[str, list[tuple[Column, str]]]) -> tuple[float, float] | None:
    lon_cell, lat_cell = _first(cols, "lon"), _first(cols, "lat")
    pair = _first(cols, "coords")
    if pair and not (lon_cell and lon_cell[1]) and not (lat_cell and lat_cell[1]):
        col, text = pair
        numbers = [_coordinate(p) for p in re.split(r"[,，;；/\s]+", text.strip()) if p]
        if len(numbers) != 2 or None in numbers:
            row.add(
                "warning",
                f"{_said(col.header, text)}：不是“经度,纬度”两个数，未记录坐标（站点不会出现在地图和找站里）",
            )
            return None
        a, b = numbers
        assert a is not None and b is not None
        if abs(a) > 90 and abs(b) > 90:
            row.add("warning", f"{_said(col.header, text)}：两个数都不是纬度，未记录坐标")
            return None
        if abs(a) <= 90 and abs(b) <= 90:
            row.add("warning", f"{_said(col.header, text)}：看不出哪个是经度，按“经度,纬度”记录")
        # the one above 90 is the longitude, in whichever order the map tool copied them
        return (b, a) if abs(b) > 90 else (a, b)
    if not lon_cell and not lat_cell:
        return None
    lon_text = lon_cell[1] if lon_cell else ""
    lat_text = lat_cell[1] if lat_cell else ""
    if not lon_text and not lat_text:
        return None
    shown = "，".join(_said(cell[0].header, cell[1]) for cell in (lon_cell, lat_cell) if cell)
    if not lon_text or not lat_text:
        row.add("warning", f"{shown}：只有半个坐标，未记录坐标（站点不会出现在地图和找站里）")
        return None
    lon, lat = _coordinate(lon_text), _coordinate(lat_text)
    if lon is None or lat is None:
        row.add("warning", f"{shown}：坐标不是数，未记录坐标（站点不会出现在地图和找站里）")
        return None
    if abs(lat) > 90 and abs(lon) <= 90:
        row.add("warning", f"{shown}：经度和纬度填反了，已按 经度 {lat}、纬度 {lon} 记录")
        lon, lat = lat, lon
    if abs(lat) > 90 or abs(lon) > 180:
        row.add("warning", f"{shown}：不在地球上，未记录坐标")
        return None
    return lon, lat


def _phone(row: Row, col: Column, text: str) -> str | None:
    compact = text.replace(" ", "")
    if _SCIENTIFIC.match(compact):
        row.add(
            "warning",
            f"{_said(col.header, text)}：号码被 Excel 改成了科学计数法，后几位已经丢了，未记录电话；"
            "请把这一列设为“文本”后重新填写",
        )
        return None
    if len(re.sub(r"\D", "", text)) < 7:
        row.add("warning", f"{_said(col.header, text)}：不像电话号码（不到 7 位数字），照原样记录")
    if len(text) > 64:
        first = _PHONE_SPLIT.split(text)[0][:64]
        row.add("warning", f"{_said(col.header, text)}：太长，只记录第一个号码 '{first}'")
        return first
    return text


def _devices(row: Row, col: Column | None, text: str) -> list[dict[str, str]] | None:
    if not text:
        return [{"id": d, "type": t} for d, t in STANDARD_DEVICES]
    out = []
    for word in _LIST_SPLIT.split(text):
        if not word:
            continue
        if word in DEVICE_WORDS:
            device, kind = DEVICE_WORDS[word]
        elif ":" in word:
            device, kind = word.split(":", 1)
        else:
            header = col.header if col else "设备"
            row.refuse(
                f"{_said(header, text)}：'{word}' 不是已知的设备；写 门磁/饮水机/插座/音箱/网关 或 id:type"
            )
            return None
        out.append({"id": device, "type": kind})
    return out


def _first(cols: dict[str, list[tuple[Column, str]]], name: str) -> tuple[Column, str] | None:
    found = cols.get(name)
    return found[0] if found else None


FIELD_LABELS = {"name": "单位", "address": "地址", "lat": "纬度", "lon": "经度", "note": "备注",
                "schedule": "开放时间", "services": "基本服务功能", "contact": "电话", "district": "区市",
                "devices": "设备"}  # fmt: skip


def _row(number: int, raw: list[Any], columns: list[Column], ctx: _Context) -> Row:
    cells = [_flat(c) for c in raw]
    row = Row(number, cells)
    cols: dict[str, list[tuple[Column, str]]] = defaultdict(list)
    for col in columns:
        if col.field and col.index < len(cells):
            cols[col.field].append((col, cells[col.index]))
    header_of = {f: v[0][0].header for f, v in cols.items()}

    def value(name: str) -> str:
        got = _first(cols, name)
        return got[1] if got else ""

    name_col = cols["name"][0][0]
    row.name = value("name")
    row.address = value("address")
    ctx.position += 1
    row.seq = value("seq") if ctx.has_seq else str(ctx.position)
    row.seq_column = header_of.get("seq", "序号") if ctx.has_seq else "行序"
    if not row.name:
        row.refuse(f"'{name_col.header}' 为空：没有站点名称，无法登记")
        return row
    if len(row.name) > 200:
        row.refuse(f"{_said(name_col.header, row.name[:20] + '…')}：名称超过 200 个字")
        return row

    # the district: the row's own column, a section heading, --district, the title, the address
    district_text = value("district")
    if district_text:
        district = district_of(district_text)
        if district is None:
            row.refuse(
                f"{_said(header_of['district'], district_text)}：不是已知的区市；"
                "写区市名（市南区）或编号（shinan）"
            )
            return row
    else:
        district = ctx.section_district or ctx.default_district or ctx.title_district
        ctx.title_used |= district is not None and district == ctx.title_district
        if district is None and row.address:
            district = district_of(row.address)
            if district:
                row.add("note", f"区市取自地址 '{row.address}'")
        if district is None:
            row.refuse(
                "没有区市：表中没有 '区市' 列（或这一格为空），地址里也看不出；"
                "请加上 '区市' 列或用 --district"
            )
            return row
    row.district = district

    explicit = value("id")
    if explicit:
        lowered = explicit.strip().lower()
        if not is_valid_id(lowered):
            row.refuse(f"{_said(header_of['id'], explicit)}：站点编号只能用小写字母、数字、- 和 _")
            return row
        if lowered != explicit:
            row.add("note", f"{_said(header_of['id'], explicit)}：按小写 '{lowered}' 登记")
        row.explicit_id = lowered

    body: dict[str, Any] = {"name": row.name, "district": district}
    notes: list[str] = []
    if row.address:
        body["address"] = row.address
    for col, text in cols.get("named_note", []) + [(c, t) for c, t in cols.get("note", [])]:
        if text:
            notes.append(text if col.field == "note" else f"{col.header}：{text}")

    contact_name = value("contact_name")
    phones = [p for c, t in cols.get("phone", []) if t and (p := _phone(row, c, t))]
    phone = "/".join(dict.fromkeys(phones))[:64] if phones else None
    if contact_name or phone:
        body["contact"] = {"name": contact_name or None, "phone": phone}

    services: list[str] = []
    for col, text in cols.get("services", []) + cols.get("facilities", []):
        found, unknown = services_of(text)
        services += [s for s in found if s not in services]
        if unknown:
            words = "、".join(unknown)
            row.add(
                "warning", f"{_said(col.header, text)}：'{words}' 不是已知的服务或设施，记在备注里，不算服务"
            )
            notes.append(f"{col.header}：{words}")
    if services:
        body["services"] = services

    hours_cell = _first(cols, "hours")
    if hours_cell is None:
        row.add("warning", "表中没有 '开放时间' 列：站点没有排班，审计不计排班时长，设备离线也不会告警")
    elif not hours_cell[1]:
        row.add(
            "warning",
            f"'{hours_cell[0].header}' 为空：站点没有排班，审计不计排班时长，设备离线也不会告警；请补填",
        )
    else:
        col, text = hours_cell
        try:
            hours = parse_clerk_hours(text)
        except ScheduleError as exc:
            row.refuse(f"{_said(col.header, text)}：{exc}。{HOURS_HELP}")
            return row
        body["schedule"] = hours.value
        row.messages += [Message("warning", f"{_said(col.header, text)}：{w}") for w in hours.warnings]
        row.messages += [Message("note", f"{_said(col.header, text)}：{n}") for n in hours.notes]
        if hours.remarks:
            said = "、".join(hours.remarks)
            row.add(
                "warning",
                f"{_said(col.header, text)}：括号里的 '{said}' 不是开放时间，记在备注里，未计入排班",
            )
            notes.append(f"开放时间另注：{said}")

    coords = _coordinates(row, cols)
    if coords:
        body["lon"], body["lat"] = coords

    device_cell = _first(cols, "devices")
    devices = _devices(row, device_cell[0] if device_cell else None, device_cell[1] if device_cell else "")
    if devices is None:
        return row
    body["devices"] = devices

    if notes:
        note = "；".join(dict.fromkeys(notes))
        if len(note) > 500:
            row.add("warning", f"备注超过 500 个字，只记录前 500 个字（原文：'{note[:30]}…'）")
            note = note[:500]
        body["note"] = note

    try:
        row.spec = StationSpec.model_validate(body)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = str(err["loc"][0]) if err["loc"] else ""
        header = header_of.get(where) or FIELD_LABELS.get(where, where)
        shown = body.get(where)
        row.refuse(f"{_said(header, str(shown) if shown is not None else '')}：{err['msg']}")
    return row


# --- the table ------------------------------------------------------------------------------------


def read_table(path: Path, default_district: str | None = None) -> Table:
    """Every row of the file's station table, parsed, with what happened to it (ids not yet given:
    `resolve`). Raises ImportFileError when the file as a whole cannot be read."""
    district = None
    if default_district:
        district = district_of(default_district)
        if district is None:
            raise ImportFileError(
                f"--district {default_district!r}: 不是已知的区市；写区市名（市南区）或编号（shinan）"
            )
    found = None
    notes: list[str] = []
    for grid in _grids(path):
        header = _find_header(grid)
        if header is None:
            continue
        if found is not None:
            notes.append(
                f"工作表 '{grid.sheet}' 也像站点表，但只读了第一张 '{found[0].sheet}'；"
                "请把它另存为单独的文件再导入"
            )
            continue
        found = (grid, header)
    if found is None:
        raise ImportFileError(
            f"{path}: no header row with 单位/名称 (or name) and another known column found"
        )
    grid, (first, last, columns, column_notes) = found
    notes += column_notes
    above = [_flat(c) for _, cells in grid.rows[:first] for c in cells if c]
    title_district = None
    if not district:
        names = {d for text in dict.fromkeys(above) if (d := _district_in(text))}
        if len(names) == 1:
            title_district = names.pop()
    ctx = _Context(district, title_district, has_seq=any(c.field == "seq" for c in columns))
    if not ctx.has_seq:
        notes.append("表中没有 '序号' 列：没有站点编号的站点按它在表中的先后编号（第 1 个站点为 1）")
    rows = []
    for number, raw in grid.rows[last + 1 :]:
        data = [None if (number, n) in grid.across else v for n, v in enumerate(raw)]
        cells = [_flat(c) for c in data]
        skip = _skip_reason(cells, columns)
        if skip is not None:
            reason, section = skip
            if not reason:
                continue  # an empty row is nothing to report
            row = Row(number, cells, [Message("skip", f"不是站点：{reason}")], skipped=True)
            if section:
                ctx.section_district = section
                row.messages.append(Message("note", f"以下各行没有 '区市' 的，区市记为 {section}"))
            rows.append(row)
            continue
        rows.append(_row(number, data, columns, ctx))
    if ctx.title_used:
        notes.append(f"没写区市的行，区市按表头上方所写记为 {title_district}")
    return Table(path, grid.sheet, (grid.rows[first][0], grid.rows[last][0]), columns, rows, notes)


def _district_in(text: str) -> str | None:
    found = {DISTRICT_WORDS[n] for n in _DISTRICT_NAMES if n in re.sub(r"\s+", "", text)}
    return found.pop() if len(found) == 1 else None


# --- ids --------------------------------------------------------------------------------------------


def derived_id(district: str, seq: str) -> str | None:
    """district + 序号: `shinan-0007`; None when the 序号 cannot make an id."""
    text = seq.strip()
    if re.fullmatch(r"\d+(\.0+)?", text):
        sid = f"{district}-{int(float(text)):04d}"
    elif re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", text):
        sid = f"{district}-{text.lower()}"
    else:
        return None
    return sid if is_valid_id(sid) else None


def same_station(name_a: str, address_a: str | None, name_b: str, address_b: str | None) -> bool:
    """Same name, and the same address unless one of them has none."""
    if comparable(name_a) != comparable(name_b):
        return False
    return not address_a or not address_b or comparable(address_a) == comparable(address_b)


def _who(name: str, address: str | None) -> str:
    return f"'{name}'（{address}）" if address else f"'{name}'"


def resolve(table: Table, existing: dict[str, StationSpec], update: bool = False) -> dict[str, StationSpec]:
    """Give every station row its id (the module docstring), refuse the rows that would lose or
    overwrite a station, and return the stations to load."""
    rows = [r for r in table.rows if r.ok]
    for row in rows:
        if row.explicit_id:
            row.station_id = row.explicit_id
            continue
        known = [
            sid
            for sid, spec in existing.items()
            if spec.district == row.district and same_station(spec.name, spec.address, row.name, row.address)
        ]
        derived = derived_id(row.district, row.seq)
        if len(known) == 1:
            row.station_id = known[0]
            if known[0] != derived:
                row.add("note", f"与已登记的站点 {known[0]} 同区同名同址，沿用其编号")
            continue
        if len(known) > 1:
            row.add("note", f"已登记的 {'、'.join(sorted(known))} 与本行同区同名同址，按序号编号")
        if derived is None:
            why = "不是数字" if row.seq else "没有序号"
            row.refuse(f"{_said(row.seq_column, row.seq)}：{why}，无法编号；请改正序号或填写 '站点编号'")
            continue
        row.station_id = derived

    by_id: dict[str, list[Row]] = defaultdict(list)
    by_station: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
    for row in rows:
        if row.station_id and row.status != REFUSED:
            by_id[row.station_id].append(row)
            by_station[(row.district, comparable(row.name), comparable(row.address))].append(row)
    for sid, same in by_id.items():
        if len(same) > 1:
            numbers = "、".join(str(r.number) for r in same)
            for row in same:
                row.refuse(
                    f"{_said(row.seq_column, row.seq) if not row.explicit_id else '站点编号 ' + sid}："
                    f"第 {numbers} 行的编号都是 {sid}，这几行都未导入；请改正序号或填写 '站点编号'"
                )
    for same in by_station.values():
        if len(same) > 1 and len({r.station_id for r in same}) > 1:
            numbers = "、".join(str(r.number) for r in same)
            for row in same:
                if row.status != REFUSED:
                    row.refuse(
                        f"同一站点 {_who(row.name, row.address)} 在第 {numbers} 行出现了不止一次，"
                        "这几行都未导入"
                    )

    for row in rows:
        if row.status == REFUSED or not row.station_id:
            continue
        old = existing.get(row.station_id)
        assert row.spec is not None
        if old is None:
            row.add("note", f"新登记为 {row.station_id}")
        elif same_station(old.name, old.address, row.name, row.address) and old.district == row.district:
            row.add("note", f"更新已登记的站点 {row.station_id}")
        elif update:
            row.add(
                "warning",
                f"编号 {row.station_id} 原为 {_who(old.name, old.address)}，"
                f"按 --update 替换为本行 {_who(row.name, row.address)}",
            )
        else:
            row.refuse(
                f"编号 {row.station_id} 已登记为 {_who(old.name, old.address)}，"
                f"与本行 {_who(row.name, row.address)} 不是同一站点，未导入；"
                "确认要替换请加 --update，否则请给本行填写 '站点编号'"
            )
    return table.stations()


# --- the older entry points and the report ------------------------------------------------------------


@dataclass
class RowError:
    row: int
    message: str


def read_stations(
    path: Path, default_district: str | None = None, existing: dict[str, StationSpec] | None = None
) -> tuple[dict[str, StationSpec], list[RowError]]:
    """The stations of a file and every refused row's messages (checked against `existing`)."""
    table = read_table(path, default_district)
    stations = resolve(table, existing or {})
    errors = [
        RowError(r.number, m.text)
        for r in table.rows
        if r.status == REFUSED
        for m in r.messages
        if m.level == "refusal"
    ]
    return stations, errors


def parse_hours(text: str) -> str | dict[str, Any]:
    """开放时间 → the body's `schedule` (ValueError naming 开放时间 when it cannot be read)."""
    try:
        return parse_clerk_hours(text).value
    except ScheduleError as exc:
        raise ValueError(f"开放时间 {text!r}: {exc}") from None


def parse_services(text: str) -> list[str]:
    """Services of a cell; words that are none are not services (they go to the note)."""
    return services_of(text)[0]


REPORT_HEADER = ("行号", "状态", "说明", "站点编号", "开放时间（导入后）")


def report_rows(table: Table) -> list[list[Any]]:
    """The per-row report: the fixed columns, then the row as the clerk wrote it."""
    headers = [c.header for c in table.columns]
    out: list[list[Any]] = [[*REPORT_HEADER, *headers]]
    for row in table.rows:
        order = {"refusal": 0, "warning": 1, "skip": 2, "note": 3}
        shown = [m.text for m in sorted(row.messages, key=lambda m: order[m.level])]
        hours = row.spec.schedule_text() if row.spec is not None and row.spec.schedule is not None else ""
        out.append([row.number, row.status, "；".join(shown), row.station_id or "", hours, *row.cells])
    return out


def write_report(table: Table, path: Path) -> None:
    """`--report`: XLSX (or CSV, UTF-8 with BOM, when the name ends in .csv), one line per row."""
    rows = report_rows(table)
    if path.suffix.lower() == ".csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        path.write_text(buffer.getvalue(), encoding="utf-8-sig")
        return
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "导入结果"
    for line in rows:
        sheet.append(line)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "C2"
    for letter, width in zip("ABCDE", (6, 8, 80, 16, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    for (cell,) in sheet.iter_rows(min_row=2, min_col=3, max_col=3):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    about = book.create_sheet("说明")
    about.append(["文件", str(table.path)])
    about.append(["工作表", table.sheet or ""])
    about.append(["表头所在行", f"{table.header_rows[0]}-{table.header_rows[1]}"])
    for note in table.notes:
        about.append(["提示", note])
    about.append(["导入日期", date.today().isoformat()])
    book.save(path)
