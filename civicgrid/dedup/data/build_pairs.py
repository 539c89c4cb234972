"""Builds ``evaluation_pairs.jsonl``, the labelled report pairs of ``manage.py evaluate_dedup``.

Run ``python civicgrid/dedup/data/build_pairs.py`` to regenerate (deterministic: fixed seed). The
file is committed; this script documents how it was made.

Each incident is one problem at one place in Xiamen, written three ways, the way the three
channels write: a 12345 operator (formal, long, with the caller's address and boilerplate), a grid
worker (terse, on the spot, GPS point, no address), a citizen on the web (colloquial, sometimes
with typos or homophones, a rough address). Positive pairs are two of those reports. Negative
pairs are different incidents that a naive matcher would merge:

- ``next_street``: the same kind of problem 80–300 m away (the next landmark on the road or the
  next street), within the time window;
- ``other_category``: a different problem at the same spot at the same time (half of them of the
  same major class, so they pass the category filter and must be told apart by the words);
- ``weeks_apart``: the same problem at the same spot again, 2–6 weeks later (a recurrence, a new
  case).

Geometry is self-contained: points are placed around approximate real Xiamen coordinates; nothing
needs the demo database.
"""

from __future__ import annotations

import json
import math
import random
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

SEED = 20261124
TZ = ZoneInfo("Asia/Shanghai")
OUT = Path(__file__).with_name("evaluation_pairs.jsonl")

# Places: (district, road, [landmarks along it, ~100-250 m apart], lon, lat of the first landmark,
# bearing of the road in degrees from east).
PLACES = [
    ("集美区", "杏林湾路", ["诚毅广场东侧", "杏林湾路与集美大道交叉口", "集美新城地铁站2号口"], 118.0960, 24.5800, 80),
    ("集美区", "侨英路", ["侨英小学门口", "叶厝社区公交站", "侨英路农贸市场"], 118.0935, 24.5925, 10),
    ("集美区", "银江路", ["集美学村地铁站", "银江路与石鼓路口", "嘉庚公园北门"], 118.1040, 24.5810, 170),
    ("集美区", "乐海路", ["乐海小区北门", "乐海路菜市场", "集美中学侧门"], 118.1055, 24.5870, 95),
    ("集美区", "岑东路", ["岑西社区居委会", "岑东路加油站", "岑东小区3号楼"], 118.0870, 24.5990, 45),
    ("集美区", "孙厝路", ["孙厝小学", "孙厝村委会", "孙厝路公交首末站"], 118.0790, 24.6080, 120),
    ("思明区", "湖滨南路", ["湖滨南路与湖明路交叉口", "市政府站公交站台", "湖滨一里小区门口"], 118.0930, 24.4770, 0),
    ("思明区", "莲前西路", ["莲前西路与嘉禾路口", "莲花五村北门", "宝龙中心东侧"], 118.1280, 24.4800, 5),
    ("思明区", "中山路", ["中山路步行街西口", "中山路与思明南路交叉口", "中山公园南门"], 118.0810, 24.4570, 60),
    ("思明区", "厦禾路", ["厦禾路火车站对面", "厦禾路与开禾路口", "禾祥西小区"], 118.1080, 24.4690, 20),
    ("湖里区", "枋湖路", ["枋湖客运站", "枋湖路与金尚路口", "枋湖社区服务中心"], 118.1410, 24.5050, 100),
    ("湖里区", "湖里大道", ["湖里大道与兴湖路口", "湖里万达北门", "湖里公园东门"], 118.1130, 24.5110, 15),
    ("湖里区", "江头北路", ["江头菜市场", "江头公园西门", "江头北路与吕岭路口"], 118.1300, 24.5000, 75),
    ("海沧区", "海沧大道", ["海沧湾公园入口", "海沧大道与马青路口", "天心岛旁人行道"], 118.0410, 24.4870, 30),
    ("海沧区", "新阳路", ["新阳工业区南门", "新阳路公交站", "新阳街道办对面"], 118.0240, 24.5200, 95),
    ("同安区", "环城南路", ["同安影剧院", "环城南路与城西路口", "双溪公园北门"], 118.1590, 24.7240, 170),
    ("同安区", "祥平路", ["祥平街道卫生服务中心", "祥平路加油站", "祥露小区东门"], 118.1470, 24.7020, 80),
    ("翔安区", "新店路", ["新店镇政府对面", "新店路与翔安南路口", "新店菜市场"], 118.2430, 24.6200, 110),
]

# Problem types: category (kind, code, major), three registers' templates, details. Templates
# use {road}, {mark}, {district}, {detail}; some web texts carry typos on purpose.
TYPES = [
    dict(key="manhole", kind="matter", code="01002", major="01", details=["盖板整块不见了", "盖子碎成两半", "井盖松动翘起来"], hotline=[
        "市民来电反映：{district}{road}{mark}附近人行道上有一处污水井盖{detail}，晚上路过的行人和电动车很容易掉进去，存在较大安全隐患，请相关部门尽快核实处理。",
        "来电人称{road}{mark}旁边的下水井井盖{detail}，井口敞开，已有老人差点踩空，诉求尽快修复或者设置警示围挡。",
    ], grid=["{mark}污水井盖{detail}，已临时摆放锥桶", "井盖{detail}，位于{road}{mark}", "{road}井盖缺损，需更换"], web=[
        "{mark}那个下水道盖子{detail}，好危险啊，小孩子掉下去怎么办，赶紧来修一下吧",
        "{road}上井盖坏了，就在{mark}边上，晚上黑灯瞎火的根本看不见，希望快点处理！！",
        "井盖{detail}了，在{road}靠近{mark}，差点把我电动车轮子卡进去",
    ]),
    dict(key="streetlight", kind="matter", code="01037", major="01", details=["连续好几盏", "一整排", "三四盏"], hotline=[
        "市民来电反映：{district}{road}{mark}路段的路灯{detail}不亮，已持续一周左右，夜间道路漆黑，行人出行不便且存在安全隐患，请相关部门尽快维修。",
        "来电人反映{road}{mark}一带路灯夜间不亮（{detail}），附近居民晚上散步很不安全，要求尽快恢复照明。",
    ], grid=["{road}{mark}路灯不亮，{detail}", "路灯故障，{mark}", "{mark}段路灯夜间熄灭"], web=[
        "{road}{mark}那边路灯{detail}都不亮了，晚上走路黑漆漆的好吓人",
        "路灯坏了好久了没人修，{mark}附近，晚上根本看不清路，女生下班回家很害怕",
        "{mark}的路登不亮，{detail}，天黑以后一片黑",
    ]),
    dict(key="pothole", kind="matter", code="06013", major="06", details=["一个脸盆大的坑", "路面塌了一块", "好几个连着的坑"], hotline=[
        "市民来电反映：{district}{road}{mark}机动车道上出现{detail}，车辆经过颠簸严重，雨天积水看不清，极易引发交通事故，请相关部门尽快修补。",
        "来电人称{road}{mark}附近道路破损，有{detail}，已有电动车在此摔倒，诉求尽快修复路面。",
    ], grid=["{mark}路面破损坑洼，约1平方米", "{road}路面塌陷，{detail}", "道路破损，{mark}"], web=[
        "{road}{mark}路上{detail}，开车过去咯噔一下，轮胎都要爆了",
        "马路烂了一个大坑，就在{mark}那里，下雨天全是水看不见，今天有人骑车摔了",
        "{mark}门口的路坑坑洼洼的，{detail}，什么时候能补一下",
    ]),
    dict(key="garbage", kind="matter", code="06010", major="06", details=["堆了好几天", "堆成小山", "臭气熏天"], hotline=[
        "市民来电反映：{district}{road}{mark}路边生活垃圾{detail}，无人清运，气味难闻，蚊蝇滋生，影响周边居民生活，请相关部门尽快清理。",
        "来电人反映{road}{mark}旁的垃圾桶满溢，垃圾{detail}散落在人行道上，诉求环卫部门及时清运。",
    ], grid=["{mark}暴露垃圾，{detail}", "{road}垃圾未清运", "路边垃圾堆积，{mark}"], web=[
        "{mark}这里的垃圾{detail}了都没人收，太臭了，走过去要捂鼻子",
        "{road}边上垃圾堆的到处都是，苍蝇乱飞，环卫工人呢？？",
        "垃圾没人清理，{mark}旁边，{detail}，夏天味道受不了",
    ]),
    dict(key="waterlogging", kind="governance", code="92004", major="92", details=["积水没过膝盖", "水深二三十公分", "整条路都淹了"], hotline=[
        "市民来电反映：今天强降雨后{district}{road}{mark}路段出现严重积水，{detail}，车辆无法通行，行人被迫涉水，请相关部门尽快排水。",
        "来电人称{road}{mark}一下雨就内涝，目前{detail}，排水口疑似堵塞，要求尽快疏通排涝。",
    ], grid=["{mark}积水严重，{detail}", "{road}内涝，车辆绕行", "道路积水，排水不畅，{mark}"], web=[
        "{road}{mark}又淹了！！{detail}，车都熄火了，每次下雨都这样",
        "下大雨{mark}那边水漫上来了，{detail}，走都走不过去",
        "{mark}积水好深，下水道堵了吧，{detail}",
    ]),
    dict(key="stall", kind="matter", code="09006", major="09", details=["七八个流动摊贩", "卖水果的小推车", "晚上一排烧烤摊"], hotline=[
        "市民来电反映：{district}{road}{mark}人行道上长期有{detail}占道经营，占用盲道和通行空间，行人只能走机动车道，请城管部门依法处理。",
        "来电人反映{road}{mark}附近每天傍晚有{detail}，占道经营影响通行和市容，诉求加强管理。",
    ], grid=["{mark}占道经营，{detail}", "{road}流动摊贩占道", "游商占道，{mark}"], web=[
        "{mark}门口天天摆摊，{detail}，人行道都被占满了走不了",
        "{road}那边小贩乱摆摊，路都堵了，城管管不管啊",
        "{mark}附近{detail}摆摊，占着路还到处是垃圾",
    ]),
    dict(key="parking", kind="matter", code="09009", major="09", details=["三四辆小汽车", "一辆白色面包车", "好几辆车"], hotline=[
        "市民来电反映：{district}{road}{mark}人行道及消防通道被{detail}长期违规停放占用，行人通行困难，消防车无法进入，请相关部门处理。",
        "来电人称{road}{mark}有{detail}乱停乱放，堵住了出入口，要求交警或城管尽快处理。",
    ], grid=["{mark}机动车乱停放，{detail}", "{road}违停占用人行道", "车辆乱停，{mark}"], web=[
        "{mark}门口天天有车乱停，{detail}堵在那里，出门都出不去",
        "{road}人行道上停满了车，推婴儿车都过不去，没人管吗",
        "乱停车！！{mark}那里{detail}把路堵死了",
    ]),
    dict(key="noise", kind="governance", code="94005", major="94", details=["每天晚上十点以后", "凌晨一两点", "周末一大早"], hotline=[
        "市民来电反映：{district}{road}{mark}附近有广场舞音响声音过大，{detail}仍在播放，严重影响周边居民休息，请相关部门协调处理。",
        "来电人称{road}{mark}一带{detail}有人用大功率音响唱歌跳舞，噪音扰民，多次劝说无果，诉求尽快处理。",
    ], grid=["{mark}广场舞噪音扰民，{detail}", "{road}音响声音过大", "噪音扰民，{mark}"], web=[
        "{mark}的广场舞太吵了，{detail}还在放，孩子根本睡不着",
        "{road}那边每天晚上音响开得巨响，吵死了，能不能管管",
        "{mark}跳舞的噪音好大，{detail}，老人心脏受不了",
    ]),
    dict(key="tree", kind="matter", code="04002", major="04", details=["一棵大树被风刮倒", "粗树枝断下来", "行道树歪倒"], hotline=[
        "市民来电反映：{district}{road}{mark}{detail}，横在人行道和非机动车道上，阻碍通行，随时可能砸到行人车辆，请园林部门尽快清理。",
        "来电人称昨晚大风后{road}{mark}{detail}，压在电线上，存在安全隐患，要求尽快处置。",
    ], grid=["{mark}{detail}，阻碍通行", "{road}行道树倒伏", "树木倒伏，{mark}"], web=[
        "{mark}那里{detail}了，整条人行道都堵住了，快来人清理一下",
        "{road}的树倒了！！差点砸到车，太危险了",
        "{mark}旁边{detail}，压在路边，没人管",
    ]),
    dict(key="ads", kind="matter", code="07001", major="07", details=["贴满了办证小广告", "到处是喷涂的电话号码", "贴了一大片疏通下水道广告"], hotline=[
        "市民来电反映：{district}{road}{mark}周边的墙面和电线杆上{detail}，严重影响市容市貌，请相关部门清理并查处。",
        "来电人反映{road}{mark}附近{detail}，清了又贴，诉求彻底整治。",
    ], grid=["{mark}非法小广告，{detail}", "{road}墙面乱贴广告", "小广告，{mark}"], web=[
        "{mark}墙上{detail}，牛皮癣太难看了",
        "{road}电线杆上全是小广告，看着好乱，能不能清一下",
        "{mark}那边的墙{detail}，丑死了",
    ]),
    dict(key="signal", kind="matter", code="02014", major="02", details=["一直闪黄灯", "红灯不亮", "整个路口信号灯都灭了"], hotline=[
        "市民来电反映：{district}{road}{mark}的交通信号灯{detail}，车辆和行人通行混乱，险些发生事故，请相关部门尽快维修。",
        "来电人称{road}{mark}红绿灯故障，{detail}，高峰期堵成一团，要求尽快修复。",
    ], grid=["{mark}信号灯故障，{detail}", "{road}路口红绿灯不亮", "交通信号灯异常，{mark}"], web=[
        "{mark}的红绿灯坏了，{detail}，车子乱开好危险",
        "{road}那个路口的红路灯不工作了，大家都在抢道",
        "{mark}交通灯{detail}，早上差点撞车",
    ]),
    dict(key="fire_passage", kind="governance", code="92001", major="92", details=["电动车在楼道里充电", "楼道堆满纸箱杂物", "消防通道被铁门锁住"], hotline=[
        "市民来电反映：{district}{road}{mark}居民楼内{detail}，一旦起火后果不堪设想，请相关部门上门检查整改。",
        "来电人称{road}{mark}的小区{detail}，存在严重消防安全隐患，多次向物业反映未解决。",
    ], grid=["{mark}消防隐患，{detail}", "{road}楼道飞线充电", "消防通道堵塞，{mark}"], web=[
        "{mark}那栋楼{detail}，好怕着火，物业也不管",
        "{road}小区里有人电瓶车拉线到楼道里充电，太危险了",
        "{mark}楼道{detail}，消防通道都走不了人",
    ]),
    dict(key="water_leak", kind="governance", code="94001", major="94", details=["自来水管爆了", "地下水管一直往外冒水", "消防栓漏水"], hotline=[
        "市民来电反映：{district}{road}{mark}路边{detail}，大量清水流到路面，浪费严重，附近居民家中水压变低，请供水部门尽快抢修。",
        "来电人称{road}{mark}{detail}，已经流了半天，路面结了一层青苔，要求尽快维修。",
    ], grid=["{mark}供水管道漏水，{detail}", "{road}水管破裂冒水", "漏水，{mark}"], web=[
        "{mark}路边{detail}，水哗哗地流，太浪费了",
        "{road}那边水管漏水了，一路都是水，自来水公司快来",
        "{mark}冒水好久了，{detail}",
    ]),
    dict(key="construction_noise", kind="matter", code="08001", major="08", details=["夜里十二点还在打桩", "凌晨在浇筑混凝土", "晚上切割钢筋的声音"], hotline=[
        "市民来电反映：{district}{road}{mark}旁边的建筑工地{detail}，噪音很大，严重影响周边居民休息，请相关部门核查是否办理夜间施工许可。",
        "来电人称{road}{mark}工地夜间施工扰民，{detail}，诉求停止违规夜间施工。",
    ], grid=["{mark}工地夜间施工扰民", "{road}工地{detail}", "施工噪音，{mark}"], web=[
        "{mark}那个工地{detail}，吵得睡不着，有没有人管",
        "{road}工地半夜还在施工，轰隆隆的，明天还要上班啊",
        "{mark}施工{detail}，天天这样",
    ]),
    dict(key="dust", kind="matter", code="08004", major="08", details=["黄土没有覆盖", "渣土车进出带泥", "工地没洒水"], hotline=[
        "市民来电反映：{district}{road}{mark}附近工地扬尘严重，{detail}，周边居民不敢开窗，请相关部门督促整改。",
        "来电人称{road}{mark}工地{detail}，刮风时满天灰尘，诉求加强扬尘管控。",
    ], grid=["{mark}工地扬尘，{detail}", "{road}工地裸土未覆盖", "扬尘，{mark}"], web=[
        "{mark}工地灰好大，{detail}，衣服都不敢晒",
        "{road}那边尘土飞扬的，工地也不洒水",
        "{mark}附近扬尘严重，{detail}",
    ]),
    dict(key="bikes", kind="matter", code="09011", major="09", details=["几十辆共享单车", "共享电单车堆成一堆", "倒了一地的共享单车"], hotline=[
        "市民来电反映：{district}{road}{mark}出入口{detail}乱停乱放，堵塞人行道和盲道，请相关部门督促运营企业清理。",
        "来电人称{road}{mark}{detail}，出口被堵，行人只能绕行，要求尽快清理。",
    ], grid=["{mark}共享单车乱停放，{detail}", "{road}共享单车堆积", "单车乱象，{mark}"], web=[
        "{mark}门口{detail}，路都走不了",
        "{road}共享单车停得乱七八糟，盲道全堵了",
        "{mark}那里{detail}，一下雨全泡着",
    ]),
]

# Different problems at the same spot: pairs of type keys (same major class first).
OTHER_CATEGORY_PAIRS = [
    ("manhole", "streetlight"), ("streetlight", "manhole"), ("pothole", "garbage"), ("garbage", "pothole"),
    ("stall", "parking"), ("parking", "bikes"), ("bikes", "stall"), ("construction_noise", "dust"),
    ("dust", "construction_noise"), ("waterlogging", "fire_passage"), ("noise", "water_leak"),
    ("water_leak", "noise"), ("manhole", "pothole"), ("tree", "streetlight"), ("ads", "garbage"),
    ("signal", "parking"), ("garbage", "stall"), ("pothole", "waterlogging"),
]

TYPOS = {"路灯": "路登", "井盖": "井概", "垃圾": "拉圾", "积水": "积氺", "噪音": "燥音", "红绿灯": "红路灯",
         "占道": "站道", "工地": "工第", "广告": "广搞"}


def _offset(lon, lat, metres, bearing_deg):
    rad = math.radians(bearing_deg)
    dlat = metres * math.sin(rad) / 111_320.0
    dlon = metres * math.cos(rad) / (111_320.0 * math.cos(math.radians(lat)))
    return round(lon + dlon, 6), round(lat + dlat, 6)


def _fill(template, place, mark, detail):
    district, road = place[0], place[1]
    return template.format(district=district, road=road, mark=mark, detail=detail)


def _typo(rng, text):
    if rng.random() < 0.5:
        for right, wrong in TYPOS.items():
            if right in text:
                return text.replace(right, wrong, 1)
    return text


def _report(rng, channel, place, mark_index, type_, detail, at, base, jitter):
    mark = place[2][mark_index]
    lon, lat = _offset(*base, rng.uniform(0, jitter), rng.uniform(0, 360))
    if channel == "hotline_12345":
        text = _fill(rng.choice(type_["hotline"]), place, mark, detail)
        address = f"厦门市{place[0]}{place[1]}{mark}"
    elif channel == "grid_patrol":
        text = _fill(rng.choice(type_["grid"]), place, mark, detail)
        address = ""
    else:
        text = _typo(rng, _fill(rng.choice(type_["web"]), place, mark, detail))
        address = rng.choice([f"{place[1]}{mark}", f"{mark}附近", ""])
    return {"channel": channel, "text": text, "kind": type_["kind"], "code": type_["code"], "major": type_["major"],
            "lon": lon, "lat": lat, "at": at.replace(microsecond=0).isoformat(), "address": address}


def _mark_point(place, mark_index, spacing):
    lon, lat = place[3], place[4]
    return _offset(lon, lat, spacing * mark_index, place[5])


def build() -> list[dict]:
    rng = random.Random(SEED)
    types = {t["key"]: t for t in TYPES}
    pairs = []
    start = datetime(2026, 6, 1, 8, 0, tzinfo=TZ)
    channels = ["hotline_12345", "grid_patrol", "web"]
    jitter = {"hotline_12345": 70, "grid_patrol": 25, "web": 55}  # geocoded address vs GPS
    incident = 0
    for p_index, place in enumerate(PLACES):
        spacing = rng.uniform(90, 260)  # metres between landmarks of this road
        for t_index, type_ in enumerate(TYPES):
            if (p_index + t_index) % 3:  # every place gets a third of the problem types
                continue
            incident += 1
            mark_index = rng.randrange(len(place[2]))
            base = _mark_point(place, mark_index, spacing)
            detail = rng.choice(type_["details"])
            t0 = start + timedelta(days=incident * 1.7, hours=rng.uniform(0, 10))
            times = {"hotline_12345": t0, "grid_patrol": t0 + timedelta(hours=rng.uniform(0.3, 30)),
                     "web": t0 + timedelta(hours=rng.uniform(-4, 40))}
            reports = {c: _report(rng, c, place, mark_index, type_, detail, times[c], base, jitter[c])
                       for c in channels}
            for a, b in (("hotline_12345", "grid_patrol"), ("hotline_12345", "web"), ("grid_patrol", "web")):
                pairs.append({"label": 1, "kind": "same_incident", "a": reports[a], "b": reports[b]})
            # Hard negative 1: the same problem at the next landmark (or the next street).
            other_mark = (mark_index + rng.choice([1, -1])) % len(place[2])
            far = _mark_point(place, other_mark, spacing)
            other_detail = rng.choice([d for d in type_["details"] if d != detail] or type_["details"])
            c = rng.choice(channels)
            neighbour = _report(rng, c, place, other_mark, type_, other_detail,
                                t0 + timedelta(hours=rng.uniform(-20, 40)), far, 15)
            pairs.append({"label": 0, "kind": "next_street", "a": reports[rng.choice(channels)], "b": neighbour})
            # Hard negative 2: the same kind of problem on the next road in the list, 150-300 m away.
            c = rng.choice(channels)
            road2 = PLACES[(p_index + 1) % len(PLACES)]
            near = _offset(*base, rng.uniform(120, 300), rng.uniform(0, 360))
            other = _report(rng, c, road2, rng.randrange(3), type_, other_detail,
                            t0 + timedelta(hours=rng.uniform(-10, 30)), near, 10)
            pairs.append({"label": 0, "kind": "next_street", "a": reports[rng.choice(channels)], "b": other})
            # Hard negative 3: a recurrence at the same spot weeks later.
            later = t0 + timedelta(days=rng.uniform(14, 42))
            again = _report(rng, rng.choice(channels), place, mark_index, type_, rng.choice(type_["details"]),
                            later, base, 40)
            pairs.append({"label": 0, "kind": "weeks_apart", "a": reports[rng.choice(channels)], "b": again})
    # Hard negative 4: a different problem at the same spot, the same days.
    for k in range(3):
        for first, second in OTHER_CATEGORY_PAIRS:
            place = PLACES[(k * 7 + len(pairs)) % len(PLACES)]
            mark_index = rng.randrange(3)
            base = _mark_point(place, mark_index, 150)
            t0 = start + timedelta(days=rng.uniform(0, 150))
            ta, tb = types[first], types[second]
            a = _report(rng, rng.choice(channels), place, mark_index, ta, rng.choice(ta["details"]), t0, base, 40)
            b = _report(rng, rng.choice(channels), place, mark_index, tb, rng.choice(tb["details"]),
                        t0 + timedelta(hours=rng.uniform(-24, 48)), base, 40)
            pairs.append({"label": 0, "kind": "other_category", "a": a, "b": b})
    for i, pair in enumerate(pairs, 1):
        pair["id"] = i
    return pairs


def main() -> None:
    pairs = build()
    with OUT.open("w", encoding="utf-8") as fh:
        for pair in pairs:
            fh.write(json.dumps(pair, ensure_ascii=False) + "\n")
    positives = sum(p["label"] for p in pairs)
    print(f"{len(pairs)} pairs ({positives} same incident, {len(pairs) - positives} different) → {OUT}")


if __name__ == "__main__":
    main()
