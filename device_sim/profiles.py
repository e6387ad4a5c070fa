"""Who the simulated stations are: ids, names, districts, declared hours and habits, from a seed."""

import random
from dataclasses import dataclass, field

from yizhan.protocol.device_types import DeviceType

DISTRICTS = (
    ("shinan", "市南区"),
    ("shibei", "市北区"),
    ("licang", "李沧区"),
    ("laoshan", "崂山区"),
    ("chengyang", "城阳区"),
    ("huangdao", "黄岛区"),
    ("jimo", "即墨区"),
    ("jiaozhou", "胶州市"),
)
ROADS = (
    "香港中路",
    "延安三路",
    "福州南路",
    "山东路",
    "黑龙江路",
    "长沙路",
    "重庆中路",
    "台东一路",
    "辽阳西路",
    "南京路",
)
SERVICES = ["water", "heat_food", "rest", "toilet", "charging"]
DEVICES = (
    ("door", DeviceType.DOOR_SENSOR),
    ("water", DeviceType.WATER_DISPENSER),
    ("power", DeviceType.POWER_STRIP),
    ("speaker", DeviceType.SMART_SPEAKER),
)


@dataclass
class Habits:
    """How a station's staff and visitors behave; probabilities are per day."""

    skip_p: float = 0.02  # staff never open
    late_p: float = 0.08  # open 20–90 min late
    early_p: float = 0.08  # close 20–120 min early
    after_hours_p: float = 0.04  # a visit while closed
    visits_per_day: float = 30.0
    outage_p: float = 0.10  # per device: drops off for 10–60 min
    fault_p: float = 0.05  # an injected device fault
    unplugged_p: float = 0.04  # staff claim open while every device is unplugged for 30–50 min


@dataclass
class StationProfile:
    id: str
    name: str
    district: str
    timezone: str
    weekday_hours: tuple[int, int]  # seconds since local midnight
    weekend_hours: tuple[int, int]
    lat: float
    lon: float
    habits: Habits = field(default_factory=Habits)

    def hours_on(self, weekday: int) -> tuple[int, int]:
        return self.weekend_hours if weekday >= 5 else self.weekday_hours

    def registration(self) -> dict:
        """The station body of docs/contract.md for `PUT /api/v1/stations/{id}`."""

        def fmt(r: tuple[int, int]) -> list[str]:
            return [f"{r[0] // 3600:02d}:{r[0] % 3600 // 60:02d}-{r[1] // 3600:02d}:{r[1] % 3600 // 60:02d}"]

        wk, we = fmt(self.weekday_hours), fmt(self.weekend_hours)
        return {
            "name": self.name,
            "district": self.district,
            "address": self.name.removesuffix("驿站"),
            "lat": self.lat,
            "lon": self.lon,
            "timezone": self.timezone,
            "schedule": {d: wk for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": we, "sun": we},
            "services": SERVICES,
            "contact": {"name": "值班员", "phone": "0532-80000000"},
            "devices": [{"id": d, "type": t} for d, t in DEVICES],
        }


def _habits(rng: random.Random) -> Habits:
    """Most stations keep their hours; about one in six is sloppy (the ones auditors look for)."""
    visits = rng.uniform(15, 45)
    if rng.random() < 1 / 6:
        return Habits(skip_p=0.25, late_p=0.25, early_p=0.25, unplugged_p=0.15, visits_per_day=visits)
    return Habits(visits_per_day=visits)


def make_profiles(
    count: int, seed: int, timezone: str = "Asia/Shanghai", prefix: str = "st"
) -> list[StationProfile]:
    rng = random.Random(f"profiles-{seed}")
    profiles = []
    for i in range(count):
        district, district_cn = DISTRICTS[i % len(DISTRICTS)]
        opens = rng.choice((6 * 3600 + 1800, 7 * 3600, 7 * 3600 + 1800, 8 * 3600))
        closes = rng.choice((18 * 3600, 19 * 3600, 20 * 3600, 21 * 3600))
        profiles.append(
            StationProfile(
                id=f"{prefix}-{i + 1:04d}",
                name=f"{district_cn}{rng.choice(ROADS)}{rng.randint(1, 300)}号驿站",
                district=district,
                timezone=timezone,
                weekday_hours=(opens, closes),
                weekend_hours=(opens + 3600, closes - 3600),
                lat=round(36.06 + rng.uniform(-0.15, 0.25), 5),
                lon=round(120.38 + rng.uniform(-0.3, 0.3), 5),
                habits=_habits(rng),
            )
        )
    return profiles
