"""The fault catalog: known fault codes, the device type that raises them, default severity."""

from dataclasses import dataclass

SEVERITIES = ("info", "minor", "major", "critical")
UNKNOWN_FAULT_SEVERITY = "major"


@dataclass(frozen=True)
class FaultCode:
    code: str
    device_type: str
    meaning: str
    severity: str
    meaning_zh: str = ""


CATALOG: dict[str, FaultCode] = {
    f.code: f
    for f in (
        FaultCode(
            "dry_boil",
            "water_dispenser",
            "heater on with no water, protection tripped",
            "critical",
            "干烧保护跳闸",
        ),
        FaultCode("leak", "water_dispenser", "water on the floor", "critical", "漏水"),
        FaultCode("heater", "water_dispenser", "heater does not heat", "major", "加热器不加热"),
        FaultCode("temp_sensor", "water_dispenser", "temperature sensor broken", "major", "温度传感器故障"),
        FaultCode("tank_empty", "water_dispenser", "no supply water", "minor", "水源缺水"),
        FaultCode(
            "overcurrent",
            "power_strip",
            "over-current / over-power protection tripped",
            "critical",
            "过流/过载保护跳闸",
        ),
        FaultCode("overvoltage", "power_strip", "mains above range", "major", "电压过高"),
        FaultCode("undervoltage", "power_strip", "mains below range", "major", "电压过低"),
        FaultCode("battery_low", "door_sensor", "battery below 15 %", "minor", "电池电量低于 15%"),
        FaultCode("tamper", "door_sensor", "sensor removed or forced", "major", "传感器被拆除或破坏"),
        FaultCode("mic", "smart_speaker", "microphone fault", "minor", "麦克风故障"),
        FaultCode("audio", "smart_speaker", "audio fault", "minor", "音频故障"),
        FaultCode("network", "smart_speaker", "network fault", "minor", "网络故障"),
    )
}


DEVICE_TYPE_NAMES_ZH = {
    "door_sensor": "门磁",
    "water_dispenser": "饮水机",
    "power_strip": "多功能电源插座",
    "smart_speaker": "智能音箱",
    "gateway": "网关",
    "other": "设备",
}


def severity_of(code: str, reported: str | None = None) -> str:
    """The severity of a fault: the one reported with it, else the catalog's, else major."""
    if reported in SEVERITIES:
        return reported
    known = CATALOG.get(code)
    return known.severity if known else UNKNOWN_FAULT_SEVERITY
