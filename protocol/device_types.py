"""Device types (docs/protocol.md § 3): the six this protocol names; a newer type is kept, not refused."""

from enum import StrEnum

from yizhan.protocol.wire import open_vocabulary


class DeviceType(StrEnum):
    DOOR_SENSOR = "door_sensor"  # 门磁
    WATER_DISPENSER = "water_dispenser"  # 饮水机
    POWER_STRIP = "power_strip"  # 多功能电源插座
    SMART_SPEAKER = "smart_speaker"  # 智能音箱
    GATEWAY = "gateway"  # 网关
    OTHER = "other"


# a type as a birth or a configuration names it: a DeviceType when known, else the string itself
DeviceTypeName = open_vocabulary(DeviceType, max_length=64)
