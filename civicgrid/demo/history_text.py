"""Chinese report texts for the demo history: what citizens, 12345 operators, grid workers and
sensors write about the matters a Xiamen command centre sees most.

The phrasings are hand-written per category (several per matter, in different registers, many
without the category's own words) and combined with places, times and the odd typo, so the
history reads like real work orders and a classifier trained on it cannot learn the generator's
wording. Pure functions over a ``random.Random``: the same seed gives the same texts.

``report_text(("matter", "06010"), rng)`` → ``(title, description)``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from civicgrid.demo.history_phrases import MATTERS, PLACES

# Registers: how a text is written, which follows from the channel it came in on.
CITIZEN = "citizen"  # web form, app, WeChat: the reporter's own words
HOTLINE = "hotline"  # a 12345 operator's summary of a call or visit
FIELD = "field"  # grid worker or 数字城管 supervisor on patrol: terse
SENSOR = "sensor"  # an IoT alarm turned into a case
REGISTERS = (CITIZEN, HOTLINE, FIELD, SENSOR)


@dataclass(frozen=True)
class Place:
    """Where a report is from, as names (``集美区``, ``侨英街道``, ``浒井社区``); any may be empty."""

    district: str = ""
    street: str = ""
    community: str = ""


@dataclass(frozen=True)
class Text:
    title: str
    description: str
    template: str  # which hand-written phrasing was used, e.g. ``matter:06010/fact/3``
    register: str


def _lines(block: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in block.strip().splitlines() if line.strip())


@dataclass(frozen=True)
class _Matter:
    key: tuple[str, str]
    titles: tuple[str, ...]
    facts: tuple[str, ...]  # clauses that follow a place ("{loc}" + fact); no first person
    whole: tuple[str, ...]  # complete texts in a citizen's own words, with their own slots
    field: tuple[str, ...]  # terse patrol findings
    impacts: tuple[str, ...]
    sensor: tuple[str, ...]
    at_home: bool  # happens where people live (disputes, neighbours) rather than on the street
    asks: tuple[str, ...] = field(default=())
    where: str = ""  # the place slot facts follow

    @property
    def place_slot(self) -> str:
        return self.where or ("{home}" if self.at_home else "{loc}")

    @property
    def default_impacts(self) -> tuple[str, ...]:
        if self.impacts:
            return self.impacts
        return _GENERIC_HOME_IMPACTS if self.at_home or self.key[0] == "governance" else _GENERIC_STREET_IMPACTS


def _build() -> dict[tuple[str, str], _Matter]:
    built = {}
    for spec in MATTERS:
        key = (spec["kind"], spec["code"])
        built[key] = _Matter(
            key=key,
            titles=_lines(spec["t"]),
            facts=_lines(spec.get("f", "")),
            whole=_lines(spec.get("w", "")),
            field=_lines(spec.get("g", "")),
            impacts=_lines(spec.get("i", "")),
            sensor=_lines(spec.get("s", "")),
            at_home=spec.get("home", False),
            asks=_lines(spec.get("a", "")),
            where=spec.get("p", ""),
        )
    return built


_MATTERS = _build()

COVERED_CATEGORIES: tuple[tuple[str, str], ...] = tuple(_MATTERS)
# Categories an IoT sensor can raise (manhole tilt, water level, smoke, noise, gas, bin fill level…).
SENSOR_CATEGORIES: frozenset[tuple[str, str]] = frozenset(k for k, m in _MATTERS.items() if m.sensor)
# Categories that happen at home (disputes, neighbours, building services): the history reports
# them mostly by hotline and app, rarely by patrol.
HOME_CATEGORIES: frozenset[tuple[str, str]] = frozenset(k for k, m in _MATTERS.items() if m.at_home)


def _key(category_key) -> tuple[str, str]:
    if isinstance(category_key, str):
        kind, _, code = category_key.partition(":")
        return kind, code
    return tuple(category_key)


# --- slots ----------------------------------------------------------------------------------------


_CN_DIGITS = "零一二三四五六七八九十"


def _cn_number(n: int) -> str:
    if n <= 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n - 10] if n > 10 else "")
    tens, ones = divmod(n, 10)
    return _CN_DIGITS[tens] + "十" + (_CN_DIGITS[ones] if ones else "")


class _Slots(dict):
    """Values for ``{slot}`` placeholders, drawn on first use and kept for the whole text."""

    def __init__(self, rng: random.Random, place: Place):
        super().__init__()
        self.rng = rng
        short = place.district[:-1] if place.district.endswith("区") else place.district
        self.district_short = short if short in PLACES["roads"] else rng.choice(sorted(PLACES["roads"]))
        self.place = place

    def pick(self, items):
        return self.rng.choice(items)

    def __missing__(self, name):
        value = getattr(self, "_" + name)()
        self[name] = value
        return value

    # places
    def _district(self):
        return self.place.district or f"{self.district_short}区"

    def _street(self):
        return self.place.street or self.pick(PLACES["streets"][self.district_short])

    def _community(self):
        return self.place.community or self.pick(PLACES["communities"][self.district_short])

    def _road(self):
        return self.pick(PLACES["roads"][self.district_short])

    def _road2(self):
        roads = [r for r in PLACES["roads"][self.district_short] if r != self["road"]]
        return self.pick(roads)

    def _num(self):
        return str(self.rng.choice([self.rng.randint(1, 99), self.rng.randint(100, 999), self.rng.randint(1, 30)]))

    def _addr(self):
        return f"{self['road']}{self['num']}号"

    def _xq(self):
        own = self.place.community
        if own and self.rng.random() < 0.3:
            stem = own.removesuffix("社区").removesuffix("村")
            return stem + self.pick(["新村", "小区", "花园", "里", "公寓", "家园"])
        return self.pick(PLACES["estates"][self.district_short])

    def _bldg(self):
        n = self.rng.randint(1, 40)
        return self.pick([f"{n}号楼", f"{n}栋", f"{n}幢", f"{n}号楼", f"{_cn_number(n)}号楼"])

    def _unit(self):
        return f"{self.rng.randint(1, 4)}单元"

    def _floor(self):
        return self.rng.randint(2, 33)

    def _room(self):
        return f"{self['floor']}0{self.rng.randint(1, 6)}"

    def _upstairs(self):
        return f"{int(self['floor']) + 1}0{self.rng.randint(1, 6)}"

    def _spot(self):
        return self.pick(PLACES["spots"])

    def _metro(self):
        return self.pick(PLACES["metro"][self.district_short])

    def _shop(self):
        return self.pick(PLACES["shops"])

    def _company(self):
        return self.pick(PLACES["property_companies"])

    def _bus(self):
        return f"{self.rng.choice([1, 2, 3, 5, 8, 12, 18, 20, 22, 26, 28, 30, 31, 32, 41, 43, 87, 96, 122, 135, 659, 751, 955])}路"

    def _loc(self):
        """A street-level place as people say it."""
        rng = self.rng
        return rng.choice([
            f"{self['road']}{self['num']}号门口",
            f"{self['road']}{self['num']}号旁边",
            f"{self['road']}{self['num']}号对面",
            f"{self['road']}与{self['road2']}交叉口",
            f"{self['road']}和{self['road2']}路口",
            f"{self['road']}{self['spot']}",
            f"{self['road']}{self['spot']}",
            f"{self['xq']}门口",
            f"{self['xq']}{self.pick(['东门', '西门', '南门', '北门', '后门'])}",
            f"{self['road']}往{self['road2']}方向",
            f"地铁{self['metro']}{rng.randint(1, 4)}号口",
            f"{self['community']}{self['xq']}附近",
            f"{self['road']}",
        ])

    def _home(self):
        """Where someone lives."""
        rng = self.rng
        return rng.choice([
            f"{self['xq']}{self['bldg']}",
            f"{self['xq']}{self['bldg']}{self['unit']}",
            f"{self['xq']}",
            f"{self['community']}{self['xq']}",
            f"{self['road']}{self['num']}号{self['xq']}",
            f"{self['xq']}{self['bldg']}{self['room']}",
        ])

    def _place(self):
        return self["home"] if self.rng.random() < 0.5 else self["loc"]

    # times and amounts
    def _time(self):
        return self.pick(PLACES["times"])

    def _night(self):
        return self.pick(PLACES["nights"])

    def _morning(self):
        return self.pick(PLACES["mornings"])

    def _dur(self):
        return self.pick(PLACES["durations"])

    def _n(self):
        return self.pick(["两", "三", "四", "五", "好几", "两三", "三四", "七八", "十几"])

    def _k(self):
        return str(self.rng.randint(2, 9))

    def _nn(self):
        return str(self.rng.randint(10, 60))

    def _money(self):
        return self.pick(["三千多", "五千", "八千多", "一万二", "两万多", "四千五", "六千", "一万", "三万多",
                          str(self.rng.randint(12, 98) * 100)])

    def _plate(self):
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        tail = "".join(self.rng.choice("0123456789" + letters[:6]) for _ in range(4))
        return f"闽D{self.rng.choice(letters)}{tail}" if self.rng.random() < 0.7 else f"闽D·{self.rng.randint(10000, 99999)}"

    def _device(self):
        return f"{self.pick(['XM', 'JM', 'HL', 'SM', 'HC', 'TA', 'XA'])}-{self.rng.randint(1000, 9999)}"

    def _area(self):
        return str(self.rng.choice([1, 2, 3, 5, 8, 10, 15, 20, 30]))


# --- composition ----------------------------------------------------------------------------------


_GENERIC_STREET_IMPACTS = _lines("""
影响行人通行
存在安全隐患
影响市容市貌
附近居民意见很大
老人小孩经过很危险
晚上看不清楚容易出事
""")

_GENERIC_HOME_IMPACTS = _lines("""
严重影响正常生活
居民意见很大
已经影响到休息
多次沟通无果
""")

_CITIZEN_OPENERS = _lines("""
你好，
您好，
你好，我要反映一个问题，
您好！想反映个情况：
反映一下，
你好 我想投诉
麻烦问一下，
【投诉】
你好，再次反映，
各位领导好，
打扰了，
""")

_CITIZEN_ASKS = _lines("""
麻烦尽快处理，谢谢！
希望有关部门管一管。
请尽快派人来看看。
谢谢。
能不能管一下啊
到底有没有人管？
希望能尽快解决，谢谢
请相关部门处理一下吧
辛苦了，麻烦尽快。
拜托了！！
这种情况有人管吗？
希望这次能真正解决，不要又是拍个照就结案了。
""")

_CITIZEN_MOODS = _lines("""
已经好几天了，一直没人管。
之前打过电话，说会处理，到现在还是这样。
真的受不了了。
我不是第一次反映了。
每天经过都看到，实在看不下去了。
周边的人都在骂。
""")

_HOTLINE_OPENERS = _lines("""
来电人反映：
市民来电反映，
来电反映：
市民反映，
来电人称，
来电人来电表示，
市民通过12345热线反映：
来访人反映：
""")

_HOTLINE_ASKS = _lines("""
希望相关部门尽快处理。
请相关部门核实处理。
要求有关部门尽快解决。
诉求：尽快处理。
来电人诉求：请相关部门到现场查看并处理。
望尽快协调解决。
请职能部门依法处置。
希望部门尽快处理并回复。
""")

_HOTLINE_TAILS = _lines("""
来电人要求处理后回电告知。
来电人表示已多次反映未果。
来电人要求对其个人信息保密。
来电人情绪激动。
来电人不需要回复。
如需核实请联系来电人。
来电人称此前反映过，问题未解决。
""")

_FIELD_FORMS = _lines("""
{where}{finding}
{where}{finding}，{action}
巡查发现：{where}{finding}，{action}
{where}：{finding}。{action}
[巡查上报] {where} {finding}
{community}网格员巡查发现，{where}{finding}，{action}
监督员上报：{where}{finding}，{action}
{where}发现{finding}，{action}
""")

_FIELD_ACTIONS = _lines("""
已设置警示
已拍照上报
已现场劝导，请派遣处置
现场无法自行处置，请求派遣
已通知物业
请相关部门处置
已口头告知当事人
已拉警戒线，请尽快处置
已联系社区
""")

_MIX_OPENERS = _lines("""
另外，
还有，
顺便反映一下，
另：
还有一个事，
""")

_MIX_CLOSERS = _lines("""
也麻烦一起处理。
一并处理一下，谢谢。
这个也请管一下。
""")

# Frequent slips of Chinese input methods (homophones, near-shapes) and quick typing.
_TYPOS: tuple[tuple[str, str], ...] = (
    ("垃圾", "拉圾"), ("井盖", "井该"), ("扰民", "饶民"), ("反映", "反应"), ("噪音", "燥音"),
    ("已经", "以经"), ("处理", "处里"), ("部门", "部们"), ("影响", "影像"), ("一直", "一只"),
    ("根本", "跟本"), ("占道", "站道"), ("路灯", "路登"), ("现在", "现再"), ("投诉", "头诉"),
    ("油烟", "有烟"), ("施工", "施公"), ("及时", "即时"), ("什么", "什莫"), ("怎么", "怎莫"),
    ("维修", "维休"), ("师傅", "师父"), ("赶紧", "赶进"), ("的", "得"), ("在", "再"),
    ("停车", "停车车"), ("那里", "哪里"), ("这个", "这各"), ("晚上", "晚尚"), ("管理", "管里"),
    ("麻烦", "麻繁"), ("希望", "希往"), ("物业", "物叶"), ("小区", "小去"), ("电动车", "电动车车"),
    ("楼道", "楼到"), ("装修", "装休"), ("消防", "消访"), ("安全", "按全"), ("工资", "工姿"),
)


def _typo(text: str, rng: random.Random, count: int) -> str:
    candidates = [(right, wrong) for right, wrong in _TYPOS if right in text]
    rng.shuffle(candidates)
    for right, wrong in candidates[:count]:
        starts = [m.start() for m in re.finditer(re.escape(right), text)]
        if not starts:  # an earlier slip took it
            continue
        at = rng.choice(starts)
        text = text[:at] + wrong + text[at + len(right):]
    return text


def _casual(text: str, rng: random.Random) -> str:
    """How people type on a phone: spaces or nothing for commas, doubled marks, dropped full stops."""
    roll = rng.random()
    if roll < 0.25:
        text = text.replace("，", rng.choice([" ", "，", ",", ""]))
    elif roll < 0.4:
        text = text.replace("！", "！！！").replace("？", "？？")
    elif roll < 0.5:
        text = text.rstrip("。")
    elif roll < 0.55:
        text = text.replace("。", "。。。", 1)
    return text


def _third_person(text: str) -> str:
    """A citizen's clause as an operator writes it down."""
    for mine, theirs in (("我们小区", "其所在小区"), ("我们楼", "其所在楼栋"), ("我们家", "其家"),
                         ("我家", "其家"), ("我们", "居民"), ("我的", "其"), ("我", "其")):
        text = text.replace(mine, theirs)
    return text


def _join(*parts: str) -> str:
    text = ""
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if text and text[-1] not in "，。！？：；,.!?:;、 】)）":
            text += "，"
        text += part
    if text and text[-1] not in "。！？.!?~～":
        text += "。"
    return text


_GREETING = re.compile(r"^(你好|您好|各位领导好|打扰了|反映一下|麻烦问一下|再次反映|我要反映一个问题|我想投诉|想反映个情况|"
                       r"你好 我想投诉|投诉)")


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"\{[a-z0-9_]+\}", " ", text)
    return {text[i:i + 2] for i in range(len(text) - 1)} - {"  "}


def _topic(matter: _Matter, rng: random.Random, description: str) -> str:
    """The title topic that shares most words with the description, so a report about a water
    cut is not titled "yellow tap water"; ties (and no overlap) are drawn at random."""
    words = _bigrams(description)
    scored = [(len(_bigrams(t) & words), t) for t in matter.titles]
    best = max(score for score, _t in scored)
    return rng.choice([t for score, t in scored if score == best])


def _title(matter: _Matter, slots: _Slots, rng: random.Random, register: str, description: str) -> str:
    topic = _topic(matter, rng, description)
    roll = rng.random()
    if register == CITIZEN and roll < 0.3:
        # Apps fill the title with the start of the description when the reporter leaves it empty.
        clauses = [c for c in re.split(r"[，。！？,.!?： ]", description.replace("【投诉】", "")) if c]
        first = next((c for c in clauses if not _GREETING.match(c)), "")
        if 4 <= len(first) <= 24:
            return first
    if register == HOTLINE:
        topic = rng.choice([
            "关于{where}{topic}的问题", "反映{where}{topic}", "{where}{topic}", "投诉{where}{topic}",
            "{topic}", "关于{topic}的诉求",
        ]).format(where=rng.choice(["", slots["road"], slots["xq"], slots["community"]]), topic=topic)
    elif register == FIELD:
        topic = rng.choice(["{where}{topic}", "{topic}", "{topic}（{where}）"]).format(
            where=slots["road"] if not matter.at_home else slots["xq"], topic=topic)
    return topic.format_map(slots)[:120]


def _fact_or_whole(matter: _Matter, rng: random.Random, whole_share: float) -> tuple[str, str, int]:
    if matter.whole and (not matter.facts or rng.random() < whole_share):
        index = rng.randrange(len(matter.whole))
        return "whole", matter.whole[index], index
    index = rng.randrange(len(matter.facts))
    return "fact", matter.facts[index], index


def _citizen(matter: _Matter, slots: _Slots, rng: random.Random) -> tuple[str, str]:
    part, phrase, index = _fact_or_whole(matter, rng, 0.55)
    if part == "whole":
        text = phrase
        if rng.random() < 0.25:
            text = _join(text, rng.choice(_CITIZEN_ASKS))
    else:
        where = matter.place_slot
        impacts = matter.default_impacts
        text = _join(
            rng.choice(_CITIZEN_OPENERS) if rng.random() < 0.45 else "",
            where + phrase,
            rng.choice(impacts) if rng.random() < 0.5 else "",
            rng.choice(_CITIZEN_MOODS) if rng.random() < 0.25 else "",
            rng.choice(matter.asks or _CITIZEN_ASKS) if rng.random() < 0.7 else "",
        )
    return text, f"{part}/{index}"


_HOTLINE_QUESTION_OPENERS = _lines("""
来电人咨询：
市民来电咨询，
来电咨询：
""")

_HOTLINE_QUESTION_ASKS = _lines("""
请相关部门予以解答。
希望相关部门答复。
请相关部门回电解答。
""")


def _hotline(matter: _Matter, slots: _Slots, rng: random.Random) -> tuple[str, str]:
    part, phrase, index = _fact_or_whole(matter, rng, 0.25)
    openers, asks = _HOTLINE_OPENERS, _HOTLINE_ASKS
    if part == "whole":
        body = _third_person(phrase)
        if body.startswith("请问"):
            body, openers, asks = body[2:], _HOTLINE_QUESTION_OPENERS, _HOTLINE_QUESTION_ASKS
    else:
        where = matter.place_slot
        if rng.random() < 0.35:
            where = "{district}" + where
        body = where + _third_person(phrase)
    impacts = matter.default_impacts
    text = rng.choice(openers) + _join(
        body.rstrip("。！？!?"),
        "该情况已持续{dur}" if asks is _HOTLINE_ASKS and rng.random() < 0.25 else "",
        _third_person(rng.choice(impacts)) if asks is _HOTLINE_ASKS and rng.random() < 0.5 else "",
    )
    text += rng.choice(asks)
    if rng.random() < 0.35:
        text += rng.choice(_HOTLINE_TAILS)
    return text, f"{part}/{index}"


def _field(matter: _Matter, slots: _Slots, rng: random.Random) -> tuple[str, str]:
    if matter.field:
        index = rng.randrange(len(matter.field))
        finding, part = matter.field[index], "field"
    else:
        index = rng.randrange(len(matter.titles))
        finding, part = matter.titles[index], "title"
    where = rng.choice(["{addr}", "{loc}", "{road}", "{xq}"] if not matter.at_home else ["{xq}{bldg}", "{xq}"])
    form = rng.choice(_FIELD_FORMS)
    text = form.format(where=where, finding=finding, action=rng.choice(_FIELD_ACTIONS),
                       community="{community}")
    return text.rstrip("，"), f"{part}/{index}"


def _sensor(matter: _Matter, slots: _Slots, rng: random.Random) -> tuple[str, str]:
    index = rng.randrange(len(matter.sensor))
    return matter.sensor[index], f"sensor/{index}"


def _mix(text: str, matter: _Matter, rng: random.Random, register: str) -> str:
    other = _MATTERS[rng.choice([k for k in COVERED_CATEGORIES if k != matter.key])]
    if not other.facts:
        return text
    phrase = rng.choice(other.facts)
    where = other.place_slot if other.at_home or other.where else rng.choice(["{loc}", "{road}", "小区门口", "旁边", "附近"])
    if register == HOTLINE:
        return text + "来电人另反映：" + _join(where + _third_person(phrase))
    return _join(text.rstrip("。"), rng.choice(_MIX_OPENERS) + where + phrase, rng.choice(_MIX_CLOSERS))


def compose(category_key, rng: random.Random, *, register: str = CITIZEN, place: Place | None = None) -> Text:
    """One report about ``category_key`` ((kind, code) or ``"kind:code"``) in ``register``."""
    matter = _MATTERS[_key(category_key)]
    slots = _Slots(rng, place or Place())
    if register == SENSOR and not matter.sensor:
        register = FIELD
    builder = {CITIZEN: _citizen, HOTLINE: _hotline, FIELD: _field, SENSOR: _sensor}[register]
    text, template = builder(matter, slots, rng)
    if register in (CITIZEN, HOTLINE) and rng.random() < 0.07:
        text = _mix(text, matter, rng, register)
    description = text.format_map(slots)
    if register == CITIZEN:
        if rng.random() < 0.14:
            description = _typo(description, rng, rng.choice([1, 1, 2]))
        description = _casual(description, rng)
    elif register in (HOTLINE, FIELD) and rng.random() < 0.04:
        description = _typo(description, rng, 1)
    title = _title(matter, slots, rng, register, description)
    return Text(title, description, f"{matter.key[0]}:{matter.key[1]}/{template}", register)


def report_text(category_key, rng: random.Random, *, register: str = CITIZEN,
                place: Place | None = None) -> tuple[str, str]:
    """``(title, description)`` of one report; see ``compose``."""
    text = compose(category_key, rng, register=register, place=place)
    return text.title, text.description


def template_count(category_key) -> int:
    """How many hand-written phrasings a category has (facts, whole texts, patrol findings, alarms)."""
    matter = _MATTERS[_key(category_key)]
    return len(matter.facts) + len(matter.whole) + len(matter.field) + len(matter.sensor)
