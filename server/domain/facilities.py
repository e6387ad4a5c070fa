"""The words clerks write for what a station offers (基本服务功能, 设施), and the service each means:
the one table the import reads them through.

`water`, `heat_food`, `rest`, `toilet` and `charging` are the services the public finder checks
against the station's devices; the others name facilities the unions' standards list (医药箱,
空调, 无线网络 …) so that they are kept as services rather than as free text. A word that is in
no row of the table is not a service: the import keeps it in the station's note.
"""

import re
import unicodedata

FACILITY_WORDS: dict[str, tuple[str, ...]] = {
    # 饮水: a dispenser, a kettle or plain hot water all mean drinking water
    "water": ("饮水", "喝水", "开水", "热水", "饮用水", "直饮水", "饮水机", "净水器", "热水壶", "烧水壶",
              "电热水壶", "保温壶", "茶水", "water"),
    "heat_food": ("热饭", "加热", "微波炉", "电饭煲", "heat_food"),
    "rest": ("歇脚", "休息", "桌椅", "座椅", "椅子", "桌子", "凳子", "沙发", "休息室", "避雨", "避暑",
             "rest"),
    "toilet": ("如厕", "厕所", "卫生间", "洗手间", "公厕", "toilet"),
    # a power strip is where phones and e-bike batteries charge
    "charging": ("充电", "充电器", "充电宝", "插座", "插排", "电源插座", "多功能电源插座", "charging"),
    "first_aid": ("医药箱", "药箱", "急救箱", "急救包", "常用药", "常用药品", "药品", "first_aid"),
    "air_conditioning": ("空调", "冷暖空调", "空调扇", "冷暖空调扇", "暖气", "取暖", "air_conditioning"),
    "fan": ("电风扇", "风扇", "fan"),
    "fridge": ("冰箱", "冰柜", "冰厢", "fridge"),
    "storage": ("储物柜", "贮物柜", "存包", "寄存", "storage"),
    "umbrella": ("雨伞", "爱心伞", "umbrella"),
    "repair_tools": ("打气筒", "充气", "维修工具", "工具箱", "维修工具箱", "repair_tools"),
    "wifi": ("无线网络", "无线网", "wifi", "wi-fi", "无线上网"),
    "reading": ("书报", "书报架", "报刊", "书籍", "图书", "阅读", "学习", "reading"),
    "tv": ("电视", "电视机", "tv"),
    "hand_washing": ("洗手", "洗手台", "洗手池", "hand_washing"),
}  # fmt: skip

_SERVICE_OF = {word: service for service, words in FACILITY_WORDS.items() for word in words}
# longest first, so that 饮水机 is read before 饮水 and 冷暖空调 before 空调
_BY_LENGTH = sorted(_SERVICE_OF, key=len, reverse=True)
_SPLIT = re.compile(r"[、，,;；/|\s]+|以及|和|及|与")
# what surrounds the word in a cell: 提供开水, 饮水机1台, 雨伞若干, 桌椅等
_DECORATION = re.compile(
    r"^(?:\d+[.、)]|[(（]\d+[)）]|[①-⑩]|提供|配备|配有|设有|有)|(?:各?\d+[台个套张把只件副]|若干|等)$"
)


def _clean(word: str) -> str:
    text = unicodedata.normalize("NFKC", word).strip().lower()
    previous = None
    while previous != text:
        previous, text = text, _DECORATION.sub("", text).strip()
    return text


def services_of(text: str) -> tuple[list[str], list[str]]:
    """(services, words that are none) of a cell such as `饮水、歇脚、如厕` or `饮水机1台，冷暖空调，打气筒`.

    A word means the services of the table words it holds (`多头手机充电器` → charging; `饮水热饭`
    → water, heat_food); a word holding none is returned as it was written.
    """
    services: list[str] = []
    unknown: list[str] = []
    for raw in _SPLIT.split(text or ""):
        word = _clean(raw)
        if not word:
            continue
        found = _services_in(word)
        if not found:
            unknown.append(raw.strip())
        for service in found:
            if service not in services:
                services.append(service)
    return services, unknown


def _services_in(word: str) -> list[str]:
    if word in _SERVICE_OF:
        return [_SERVICE_OF[word]]
    found: list[tuple[int, str]] = []
    rest = word
    for key in _BY_LENGTH:
        at = rest.find(key)
        if at >= 0:
            found.append((at, _SERVICE_OF[key]))
            rest = rest.replace(key, "\0" * len(key))  # a part read once is not read again (饮水机 ⊃ 饮水)
    return [service for _, service in sorted(found)]
