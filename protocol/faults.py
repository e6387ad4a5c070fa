"""The fault catalog: known fault codes, the device type that raises them, default severity."""

from dataclasses import dataclass

from yizhan.protocol.device_types import DeviceType

SEVERITIES = ("info", "minor", "major", "critical")
UNKNOWN_FAULT_SEVERITY = "major"


@dataclass(frozen=True)
class FaultCode:
    code: str
    device_type: DeviceType
    meaning: str
    severity: str
    meaning_zh: str = ""


CATALOG: dict[str, FaultCode] = {
    f.code: f
    for f in (
        FaultCode(
            "dry_boil",
            DeviceType.WATER_DISPENSER,
            "heater on with no water, protection tripped",
            "critical",
            "干烧保护跳闸",
        ),
        FaultCode("leak", DeviceType.WATER_DISPENSER, "water on the floor", "critical", "漏水"),
        FaultCode("heater", DeviceType.WATER_DISPENSER, "heater does not heat", "major", "加热器不加热"),
        FaultCode(
            "temp_sensor", DeviceType.WATER_DISPENSER, "temperature sensor broken", "major", "温度传感器故障"
        ),
        FaultCode("tank_empty", DeviceType.WATER_DISPENSER, "no supply water", "minor", "水源缺水"),
        FaultCode(
            "overcurrent",
            DeviceType.POWER_STRIP,
            "over-current / over-power protection tripped",
            "critical",
            "过流/过载保护跳闸",
        ),
        FaultCode("overvoltage", DeviceType.POWER_STRIP, "mains above range", "major", "电压过高"),
        FaultCode("undervoltage", DeviceType.POWER_STRIP, "mains below range", "major", "电压过低"),
        FaultCode("battery_low", DeviceType.DOOR_SENSOR, "battery below 15 %", "minor", "电池电量低于 15%"),
        FaultCode(
            "tamper", DeviceType.DOOR_SENSOR, "sensor removed or forced", "major", "传感器被拆除或破坏"
        ),
        FaultCode("mic", DeviceType.SMART_SPEAKER, "microphone fault", "minor", "麦克风故障"),
        FaultCode("audio", DeviceType.SMART_SPEAKER, "audio fault", "minor", "音频故障"),
        FaultCode("network", DeviceType.SMART_SPEAKER, "network fault", "minor", "网络故障"),
    )
}


DEVICE_TYPE_NAMES_ZH = {
    DeviceType.DOOR_SENSOR: "门磁",
    DeviceType.WATER_DISPENSER: "饮水机",
    DeviceType.POWER_STRIP: "多功能电源插座",
    DeviceType.SMART_SPEAKER: "智能音箱",
    DeviceType.GATEWAY: "网关",
    DeviceType.OTHER: "设备",
}


def severity_of(code: str, reported: str | None = None) -> str:
    """The severity of a fault: the one reported with it, else the catalog's, else major."""
    if reported in SEVERITIES:
        return reported
    known = CATALOG.get(code)
    return known.severity if known else UNKNOWN_FAULT_SEVERITY
