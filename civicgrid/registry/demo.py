"""A modest demo registry for 浒井社区 (侨英街道, 集美区), the demo grid worker's community: standard
addresses on three roads across grids 001–003, houses, households, about a hundred residents
(generated names and valid but fictitious ID numbers and phones), a few organisations, care tags,
and the grid worker's visits of the last week with their needs, public-sentiment and resource
items. Written through the registry's actions (so it is encrypted and has a history);
idempotent: a second run changes nothing."""

from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import shape
from stdnum.cn import ric, uscc

from civicgrid.org.models import User
from civicgrid.regions.models import Region
from civicgrid.registry import actions
from civicgrid.registry.models import Household, HouseUse, ItemKind, Resident

COMMUNITY = "350211002001"  # 浒井社区
GRIDS = [f"{COMMUNITY}001", f"{COMMUNITY}002", f"{COMMUNITY}003"]
ROADS = ["浒井路", "浒井西路", "侨英路"]
HOUSEHOLD_PREFIX = "HJ"
SURNAMES = "陈林黄张李王吴刘蔡杨郑许谢洪郭邱曾廖赖周叶苏庄吕江何"
GIVEN = "志明秀英建国丽华金水美玲国强淑芬文杰雅婷俊宏佳怡家豪欣怡宗翰思远子涵雨萱"
ORGANISATIONS = [
    ("浒井便民超市", "sole_trader", "92"), ("侨英小学", "institution", "12"), ("浒井社区卫生服务站", "institution", "12"),
    ("厦门市集美区浒井物业管理有限公司", "company", "91"), ("侨英五金店", "sole_trader", "92"),
    ("浒井社区老年协会", "social", "51"),
]
NEEDS = ["希望安装楼道扶手", "需要助餐服务", "孩子放学后无人照看", "想了解医保报销流程", "家中老人需要定期体检"]
SENTIMENTS = ["楼下夜市噪音大", "小区停车位不够", "路灯晚上不亮", "垃圾清运不及时", "电动车楼道充电有隐患"]
RESOURCES = ["家中有闲置轮椅", "会修家电，愿意帮邻居", "退休教师，可辅导功课", "有私家车，可临时接送"]


def _id_number(rng: random.Random, used: set[str]) -> str:
    while True:
        birth = datetime.date(1935, 1, 1) + datetime.timedelta(days=rng.randrange(0, 31000))
        body = f"350211{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
        number = body + ric.calc_check_digit(body + "0")
        if number not in used:
            used.add(number)
            return number


def _uscc(prefix: str, seq: int) -> str:
    body = f"{prefix}350211MA{seq:02d}HJ{seq:03d}"[:17]
    return body + uscc.calc_check_digit(body)


def _centre(region: Region) -> tuple[float | None, float | None]:
    if not region.geometry:
        return None, None
    point = shape(region.geometry).representative_point()
    return round(point.x, 6), round(point.y, 6)


@transaction.atomic
def load_demo_registry() -> dict[str, int]:
    """Load the demo registry once; returns counts for the demo summary."""
    grids = {g.code: g for g in Region.objects.filter(code__in=GRIDS)}
    worker = User.objects.filter(username="grid_worker").first()
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    actions.load_default_care_tags()
    if len(grids) != len(GRIDS) or worker is None or admin is None:
        return {}
    if not Household.objects.filter(number__startswith=HOUSEHOLD_PREFIX).exists():
        _load(grids, worker, admin)
    residents = Resident.objects.filter(grid_code__startswith=COMMUNITY)
    return {str(_("residents in the demo registry")): residents.count(),
            str(_("households in the demo registry")): Household.objects.filter(
                number__startswith=HOUSEHOLD_PREFIX).count()}


def _load(grids: dict[str, Region], worker: User, admin: User) -> None:
    rng = random.Random(350211002001)
    used: set[str] = set()
    tags = ["elderly_alone", "disabled", "low_income", "left_behind_child", "veteran"]
    households = []
    for g, code in enumerate(GRIDS):
        grid = grids[code]
        lon, lat = _centre(grid)
        for number in range(1, 4):
            for room in ("101", "102", "201", "202"):
                address = actions.create_address(admin, grid=grid, road=ROADS[g], number=str(number * 2 + g),
                                                 building="1", unit="1", room=room, lon=lon, lat=lat)
                use = HouseUse.RENTAL if room == "202" else HouseUse.RESIDENTIAL
                house = actions.create_house(admin, address=address, use=use, is_rented=use == HouseUse.RENTAL)
                household = actions.create_household(
                    admin, house=house, number=f"{HOUSEHOLD_PREFIX}{g + 1}{number:02d}{room}")
                size = rng.choice([1, 2, 3, 3, 4, 5])
                for member in range(size):
                    name = rng.choice(SURNAMES) + rng.choice(GIVEN[::2]) + (rng.choice(GIVEN) if rng.random() < .7
                                                                            else "")
                    care = [tags[rng.randrange(len(tags))]] if rng.random() < .15 else []
                    if size == 1 and rng.random() < .6:
                        care = ["elderly_alone"]
                    resident = actions.create_resident(
                        admin, house=house, household=household, name=name, id_number=_id_number(rng, used),
                        phone=f"13{rng.randrange(5, 10)}{rng.randrange(0, 10**8):08d}",
                        residence_type="migrant" if use == HouseUse.RENTAL else "registered",
                        relation="户主" if member == 0 else rng.choice(["配偶", "子女", "父母", "孙子女"]),
                        care_tags=care,
                    )
                    if member == 0 and use == HouseUse.RESIDENTIAL:
                        actions.update_house(admin, house, owner=resident)
                households.append(household)
        for seq, (name, kind, prefix) in enumerate(ORGANISATIONS[g * 2:g * 2 + 2]):
            address = actions.create_address(admin, grid=grid, road=ROADS[g], number=str(20 + seq), lon=lon,
                                             lat=lat)
            actions.create_organisation(
                admin, address=address, name=name, uscc=_uscc(prefix, g * 2 + seq + 1), kind=kind,
                contact_name=rng.choice(SURNAMES) + rng.choice(GIVEN), contact_phone=f"139{rng.randrange(0, 10**8):08d}",
                safety_contact_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                safety_contact_phone=f"138{rng.randrange(0, 10**8):08d}")
    # The last week's visits: about two hours on most days, less on some.
    today = timezone.localdate()
    for days_ago in range(7, 0, -1):
        day = today - datetime.timedelta(days=days_ago)
        minutes_left = rng.choice([150, 130, 120, 90, 60])
        hour = 9
        while minutes_left > 0:
            household = rng.choice(households)
            minutes = min(minutes_left, rng.choice([20, 30, 40]))
            items = []
            if rng.random() < .4:
                items.append((ItemKind.NEED, rng.choice(NEEDS)))
            if rng.random() < .3:
                items.append((ItemKind.SENTIMENT, rng.choice(SENTIMENTS)))
            if rng.random() < .15:
                items.append((ItemKind.RESOURCE, rng.choice(RESOURCES)))
            started = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, rng.choice([0, 15, 30]))))
            actions.record_visit(worker, household=household, started_at=started, duration_minutes=minutes,
                                 notes="入户走访，了解家庭近况。", items=items)
            minutes_left -= minutes
            hour += 1
