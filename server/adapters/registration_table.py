"""`yizhan stations import`: stations from the union's registration summary table (申报汇总表).

Reads CSV (UTF-8 with or without BOM, or GB18030 as Excel saves it in China) or XLSX, with the
Chinese headers of the table or their English names. A row that cannot be read is reported with
its row number and reason; the good rows still load.
"""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from yizhan.protocol.ids import is_valid_id
from yizhan.server.domain.station import StationSpec

HEADERS = {
    "序号": "seq",
    "站点编号": "id",
    "id": "id",
    "单位": "name",
    "name": "name",
    "地址": "address",
    "address": "address",
    "负责人": "contact_name",
    "contact_name": "contact_name",
    "电话(手机)": "phone",
    "电话": "phone",
    "phone": "phone",
    "基本服务功能": "services",
    "services": "services",
    "开放时间": "hours",
    "hours": "hours",
    "备注": "note",
    "note": "note",
    "区市": "district",
    "district": "district",
    "经度": "lon",
    "lon": "lon",
    "纬度": "lat",
    "lat": "lat",
    "设备": "devices",
    "devices": "devices",
}

SERVICE_WORDS = {
    "饮水": "water", "喝水": "water", "开水": "water", "热水": "water", "water": "water",
    "热饭": "heat_food", "加热": "heat_food", "微波炉": "heat_food", "heat_food": "heat_food",
    "歇脚": "rest", "休息": "rest", "座椅": "rest", "rest": "rest",
    "如厕": "toilet", "厕所": "toilet", "卫生间": "toilet", "toilet": "toilet",
    "充电": "charging", "charging": "charging",
}  # fmt: skip

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
    "城阳区": "chengyang", "黄岛区": "huangdao", "西海岸新区": "huangdao", "即墨区": "jimo",
    "胶州市": "jiaozhou", "平度市": "pingdu", "莱西市": "laixi", "中山区": "zhongshan",
    "西岗区": "xigang", "沙河口区": "shahekou", "甘井子区": "ganjingzi", "旅顺口区": "lvshunkou",
    "金州区": "jinzhou", "普兰店区": "pulandian", "瓦房店市": "wafangdian", "庄河市": "zhuanghe",
    "长海县": "changhai",
}  # fmt: skip

_SPLIT = re.compile(r"[、，,;；/\s]+")
_DASHES = str.maketrans({"—": "-", "－": "-", "–": "-", "～": "-", "~": "-", "至": "-", "到": "-", "：": ":"})


class ImportFileError(Exception):
    """The file as a whole cannot be read (missing, wrong format, no header row)."""


@dataclass
class RowError:
    row: int
    message: str


def _normalize_header(cell: Any) -> str:
    text = str(cell or "").strip().replace("（", "(").replace("）", ")").replace("\u3000", "")
    return text.replace(" ", "").lower() if text.isascii() else text.replace(" ", "")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\u3000", " ").strip()


def read_table(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number as a spreadsheet shows it, {field: text}) for every non-empty row below the header."""
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path)
    elif suffix in (".csv", ".txt"):
        rows = _csv_rows(path)
    else:
        raise ImportFileError(f"{path}: expected a .csv or .xlsx file")
    header: list[str | None] | None = None
    for number, cells in rows:
        if header is None:
            names = [HEADERS.get(_normalize_header(c)) for c in cells]
            if "name" in names:  # rows above the header are titles ("申报汇总表")
                header = names
            continue
        values = {k: _cell(v) for k, v in zip(header, cells, strict=False) if k}
        if any(values.values()):
            yield number, values
    if header is None:
        raise ImportFileError(f"{path}: no header row with 单位 (or name) found")


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(f"{path}: neither UTF-8 nor GB18030 text")
    yield from enumerate(csv.reader(io.StringIO(text)), start=1)


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ImportFileError(f"{path}: not a readable XLSX file ({exc})") from None
    try:
        yield from enumerate((list(r) for r in book.worksheets[0].iter_rows(values_only=True)), start=1)
    finally:
        book.close()


def parse_hours(text: str) -> str | dict[str, list[str]]:
    compact = text.translate(_DASHES).replace(" ", "")
    if compact.lower() in ("24h", "24小时", "全天", "0:00-24:00", "00:00-24:00"):
        return "24h"
    ranges = [r for r in re.split(r"[,，、;；]", compact) if r]
    if not ranges or not all(re.fullmatch(r"\d{1,2}:\d{2}-\d{1,2}:\d{2}", r) for r in ranges):
        raise ValueError(
            f"开放时间 {text!r} is not like 07:00-19:00 (several ranges: 07:00-11:00，13:00-19:00)"
        )
    fixed = ["-".join(f"{int(p.split(':')[0]):02d}:{p.split(':')[1]}" for p in r.split("-")) for r in ranges]
    if len(fixed) == 1:
        return fixed[0]
    return {d: fixed for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def parse_services(text: str) -> list[str]:
    out: list[str] = []
    for word in _SPLIT.split(text):
        if word:
            service = SERVICE_WORDS.get(word.lower(), word)
            if service not in out:
                out.append(service)
    return out


def parse_devices(text: str) -> list[dict[str, str]]:
    if not text:
        return [{"id": d, "type": t} for d, t in STANDARD_DEVICES]
    out = []
    for word in _SPLIT.split(text):
        if not word:
            continue
        if word in DEVICE_WORDS:
            device, kind = DEVICE_WORDS[word]
        elif ":" in word:
            device, kind = word.split(":", 1)
        else:
            raise ValueError(f"设备 {word!r}: use 门磁/饮水机/插座/音箱/网关 or id:type")
        out.append({"id": device, "type": kind})
    return out


def row_to_station(values: dict[str, str], default_district: str | None) -> tuple[str, StationSpec]:
    """One table row as (station id, station). Raises ValueError naming the column."""
    station_id = values.get("id", "")
    if not station_id:
        seq = values.get("seq", "")
        if not seq.isdigit():
            raise ValueError("站点编号 (id) missing and 序号 is not a number to derive one from")
        station_id = f"st-{int(seq):04d}"
    if not is_valid_id(station_id):
        raise ValueError(f"站点编号 {station_id!r} must be lower-case letters, digits, - or _")
    district_text = values.get("district") or default_district or ""
    district = DISTRICT_WORDS.get(district_text, district_text)
    if not district:
        raise ValueError("区市 (district) missing; add the column or pass --district")
    if not is_valid_id(district):
        raise ValueError(f"区市 {district_text!r} is not a known district; use an id like shinan")
    body: dict[str, Any] = {"name": values.get("name", ""), "district": district}
    for key in ("address", "note"):
        if values.get(key):
            body[key] = values[key]
    for key in ("lat", "lon"):
        if values.get(key):
            try:
                body[key] = float(values[key])
            except ValueError:
                raise ValueError(
                    f"{'纬度' if key == 'lat' else '经度'} {values[key]!r} is not a number"
                ) from None
    if values.get("hours"):
        body["schedule"] = parse_hours(values["hours"])
    if values.get("services"):
        body["services"] = parse_services(values["services"])
    if values.get("contact_name") or values.get("phone"):
        body["contact"] = {"name": values.get("contact_name") or None, "phone": values.get("phone") or None}
    body["devices"] = parse_devices(values.get("devices", ""))
    try:
        return station_id, StationSpec.model_validate(body)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ValueError(f"{where}: {err['msg']}") from None


def read_stations(
    path: Path, default_district: str | None = None
) -> tuple[dict[str, StationSpec], list[RowError]]:
    stations: dict[str, StationSpec] = {}
    errors: list[RowError] = []
    for number, values in read_table(path):
        try:
            station_id, spec = row_to_station(values, default_district)
        except ValueError as exc:
            errors.append(RowError(number, str(exc)))
            continue
        if station_id in stations:
            errors.append(RowError(number, f"站点编号 {station_id!r} appears twice; the later row wins"))
        stations[station_id] = spec
    return stations, errors
