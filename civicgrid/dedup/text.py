"""Chinese text similarity for duplicate reports: character n-grams after normalisation.

Reports of one incident arrive in different registers: a 12345 operator writes a long, formal
work order ("市民来电反映：……，请相关部门尽快核实处理"), a grid worker a few words ("井盖缺失"),
a citizen on the web something colloquial with typos ("井盖没了好危险"). Word segmentation is
brittle on such text, so we compare character bigrams and trigrams (robust to typos and word
order), after removing what carries no meaning about the incident (hotline boilerplate,
politeness, particles) and mapping everyday words onto the words officials use for the same thing
(盖子 → 井盖, 不亮 → 故障 …). The similarity blends the cosine of the n-gram counts with how much
of the shorter text the longer one contains, because a terse report is naturally a small part of
a long one.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter

# Phrases that say nothing about the incident itself (longest first when compiled).
BOILERPLATE = [
    "市民来电反映", "市民来电称", "来电人反映", "来电人称", "来电反映", "来电称", "市民反映", "群众反映",
    "网格员巡查发现", "网格员巡查时发现", "巡查发现", "巡查中发现", "日常巡查", "经现场核实", "现场查看",
    "请相关部门尽快核实处理", "请相关部门尽快处理", "请相关部门核实处理", "请有关部门尽快处理", "请相关部门处理",
    "请尽快派人处理", "请尽快处理", "尽快处理", "尽快解决", "核实处理", "予以处理", "协调处理", "及时处理",
    "希望相关部门", "希望有关部门", "希望政府", "希望尽快", "希望能", "希望", "要求", "诉求",
    "麻烦", "谢谢", "您好", "你好", "请问", "帮忙", "一下", "管一管", "管管", "有没有人管", "没人管",
    "存在", "现象", "情况", "问题", "严重影响", "影响", "目前", "现在", "已经", "一直", "非常", "特别",
    "真的", "好像", "那个", "这个", "附近", "位置", "地址", "位于", "处",
]

# Everyday words → the usual official word (applied after boilerplate removal, longest first).
SYNONYMS = {
    "盖子": "井盖", "窨井盖": "井盖", "下水道盖": "井盖", "沙井盖": "井盖", "雨水篦子": "雨水箅子", "篦子": "箅子",
    "不见了": "缺失", "没了": "缺失", "丢了": "缺失", "被偷": "缺失", "丢失": "缺失", "不翼而飞": "缺失",
    "坏了": "损坏", "破了": "破损", "烂了": "破损", "裂了": "破损", "塌了": "塌陷", "陷下去": "塌陷",
    "坑坑洼洼": "坑洼", "大坑": "坑洼",
    "不亮": "故障", "黑灯": "故障", "灯灭": "灯故障", "灯不亮": "灯故障", "路灯坏": "路灯故障",
    "水淹": "积水", "淹水": "积水", "被淹": "积水", "涝": "积水", "水漫": "积水", "一滩水": "积水",
    "冒水": "漏水", "爆管": "漏水", "水管破": "漏水", "跑水": "漏水",
    "臭水": "污水", "脏水": "污水", "下水道堵": "下水道堵塞", "堵了": "堵塞", "不通": "堵塞",
    "垃圾没人收": "垃圾未清运", "垃圾没清": "垃圾未清运", "没人清理": "未清运", "没清理": "未清运",
    "垃圾堆": "垃圾堆积", "乱丢": "乱扔", "乱倒": "乱扔", "倾倒": "乱扔",
    "吵死": "噪音", "很吵": "噪音", "噪声": "噪音", "扰民": "噪音", "很响": "噪音", "轰隆": "噪音",
    "占道": "占道经营", "摆摊": "占道经营", "摊贩": "占道经营", "小贩": "占道经营", "流动摊": "占道经营",
    "乱停": "违停", "违章停车": "违停", "乱停车": "违停", "停在人行道": "违停人行道",
    "树倒": "倒伏", "倒了": "倒伏", "断枝": "倒伏", "树枝掉": "倒伏",
    "电线": "线缆", "网线": "线缆", "飞线": "线缆", "乱拉": "私拉", "拉线": "私拉",
    "红绿灯": "信号灯", "交通灯": "信号灯",
    "小广告": "广告", "牛皮癣": "广告", "乱贴": "张贴", "乱涂": "涂写",
    "烧烤": "露天烧烤",
    "违建": "违法建设", "乱搭": "搭建", "乱建": "违法建设",
    "狗": "犬", "流浪猫": "流浪动物", "流浪狗": "流浪动物",
}

_PARTICLES = set("的了吗呢啊吧呀哦噢嘛啦哈呐么着过很太都也还就又再在是有和与及或被把给让对")
_NON_WORD = re.compile(r"[^\w]+")
_SYNONYM_RE = re.compile("|".join(re.escape(k) for k in sorted(SYNONYMS, key=len, reverse=True)))
_BOILERPLATE_RE = re.compile("|".join(re.escape(p) for p in sorted(BOILERPLATE, key=len, reverse=True)))


# Place words: proximity is judged from the points (and the address), so the names of roads and
# landmarks must not make two different problems at one spot look alike in words. A name is up to
# four characters before a place suffix.
_PLACE_SUFFIXES = (
    "交叉口|十字路口|路口|路段|大道|公路|路|街|巷|弄|里|村委会|村|社区|居委会|小区|花园|苑|广场|公园|市场|菜市场|"
    "小学|中学|幼儿园|学校|医院|卫生服务中心|服务中心|中心|大厦|商场|地铁站|公交站|首末站|客运站|火车站|站台|"
    "站|加油站|出入口|东门|西门|南门|北门|侧门|正门|门口|对面|旁边|东侧|西侧|南侧|北侧|[0-9一二三四五六七八九十]+号楼|"
    "[0-9一二三四五六七八九十]+号口|[0-9]+号|街道|镇政府|镇|区|市|省"
)
_PLACE_RE = re.compile(r"[\u4e00-\u9fa5a-z0-9]{1,4}?(?:" + _PLACE_SUFFIXES + r")")
_ADDRESS_MIN = 3


def strip_places(text: str, address: str = "") -> str:
    """``text`` without the parts of its own address it repeats and without place names."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    place = normalize_address(address)
    if len(place) >= _ADDRESS_MIN:
        i, out = 0, []
        while i < len(text):
            # the longest piece of the address starting here (at least three characters)
            n = 0
            for m in range(min(len(text) - i, len(place)), _ADDRESS_MIN - 1, -1):
                if text[i:i + m] in place:
                    n = m
                    break
            if n:
                out.append(" ")
                i += n
            else:
                out.append(text[i])
                i += 1
        text = "".join(out)
    return _PLACE_RE.sub(" ", text)


def normalize(text: str) -> str:
    """Lower-case, full-width to half-width, boilerplate and particles removed, everyday words
    mapped to official ones, punctuation dropped."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = _BOILERPLATE_RE.sub(" ", text)
    text = _SYNONYM_RE.sub(lambda m: SYNONYMS[m.group(0)], text)
    text = "".join(" " if ch in _PARTICLES else ch for ch in text)
    return _NON_WORD.sub(" ", text).strip()


def grams(text: str, address: str = "") -> Counter:
    """Character bigrams and trigrams of the normalised text without place names (never across a
    removed gap); a lone character counts as a unigram so one-character words are not lost."""
    out: Counter = Counter()
    for chunk in normalize(strip_places(text, address)).split():
        if len(chunk) == 1:
            out[chunk] += 1
            continue
        for n in (2, 3):
            for i in range(len(chunk) - n + 1):
                out[chunk[i:i + n]] += 1
    return out


def similarity(a: Counter, b: Counter) -> float:
    """0 … 1: the larger of the n-gram cosine and 0.85 × the share of the smaller text's
    n-grams found in the larger one (a terse report inside a long work order)."""
    if not a or not b:
        return 0.0
    common = a.keys() & b.keys()
    if not common:
        return 0.0
    dot = sum(a[g] * b[g] for g in common)
    cosine = dot / math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))
    smaller = a if len(a) <= len(b) else b
    containment = len(common) / len(smaller) if len(smaller) >= 3 else 0.0
    return min(1.0, max(cosine, 0.85 * containment))


def normalize_address(address: str) -> str:
    """An address reduced to what identifies the place (no city/district prefix noise, no
    punctuation or spaces), for the same-address check."""
    text = unicodedata.normalize("NFKC", address or "").lower()
    text = re.sub(r"^(福建省)?(厦门市)?", "", text)
    return _NON_WORD.sub("", text)


def same_address(a: str, b: str) -> bool:
    """Both addresses given and one names the other (at least six characters in common)."""
    na, nb = normalize_address(a), normalize_address(b)
    if len(na) < 6 or len(nb) < 6:
        return False
    return na == nb or na in nb or nb in na
