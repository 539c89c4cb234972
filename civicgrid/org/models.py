"""Organisations: departments (职能部门), command centres (综治中心), staff and their roles."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class DepartmentKind(models.TextChoices):
    """Kinds of responsible department; the responsibility matrix names kinds, not departments."""

    POLICE_STATION = "police_station", _("police station")  # 公安派出所
    CITY_MANAGEMENT = "city_management", _("city management enforcement")  # 城管执法
    JUDICIAL_OFFICE = "judicial_office", _("judicial office")  # 司法所
    COURT = "court", _("people's court")  # 人民法院
    HOUSING = "housing", _("housing and construction")  # 住建
    TRANSPORT = "transport", _("transport")  # 交通
    WATER_AFFAIRS = "water_affairs", _("water affairs")  # 水务
    ECOLOGY = "ecology", _("ecology and environment")  # 生态环境
    MARKET_REGULATION = "market_regulation", _("market regulation")  # 市场监管
    EMERGENCY = "emergency", _("emergency management")  # 应急管理
    WOMENS_FEDERATION = "womens_federation", _("women's federation")  # 妇联
    STREET_OFFICE = "street_office", _("street office")  # 街道办
    RESIDENTS_COMMITTEE = "residents_committee", _("residents' committee")  # 社区居委会
    HUMAN_RESOURCES = "human_resources", _("human resources and social security")  # 人社
    CIVIL_AFFAIRS = "civil_affairs", _("civil affairs")  # 民政
    NATURAL_RESOURCES = "natural_resources", _("natural resources")  # 自然资源
    LANDSCAPING = "landscaping", _("landscaping and parks")  # 园林绿化
    FIRE_RESCUE = "fire_rescue", _("fire and rescue")  # 消防救援
    HEALTH = "health", _("health")  # 卫健
    EDUCATION = "education", _("education")  # 教育
    WATER_SUPPLY = "water_supply", _("water supply company")  # 供水
    POWER_SUPPLY = "power_supply", _("power supply company")  # 供电
    GAS_SUPPLY = "gas_supply", _("gas supply company")  # 燃气
    TELECOM = "telecom", _("telecom operator")  # 通信
    PROPERTY_MANAGEMENT = "property_management", _("property management")  # 物业


class Department(models.Model):
    """A responsible department (职能部门) or utility serving a region."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=32, choices=DepartmentKind.choices, db_index=True)
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region served"), on_delete=models.PROTECT,
        related_name="departments",
    )
    phone = models.CharField(_("duty phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["region__code", "kind", "name"]

    def __str__(self):
        return self.name


class CentreLevel(models.TextChoices):
    COMMUNITY = "community", _("community")
    STREET = "street", _("street")
    DISTRICT = "district", _("district")
    CITY = "city", _("city")


class CommandCentre(models.Model):
    """A command centre (综治中心 / 社会治理指挥中心) owning the cases of its region."""

    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=CentreLevel.choices, db_index=True)
    region = models.OneToOneField(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="centre",
    )

    class Meta:
        verbose_name = _("command centre")
        verbose_name_plural = _("command centres")
        ordering = ["region__code"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    DISPATCHER = "dispatcher", _("dispatcher")  # 受理员/派遣员
    DEPARTMENT_HANDLER = "department_handler", _("department handler")  # 职能部门
    GRID_WORKER = "grid_worker", _("grid worker")  # 网格员
    MEDIATOR = "mediator", _("mediator")  # 调解员
    LEADER = "leader", _("leader")  # 领导
    ADMINISTRATOR = "administrator", _("administrator")  # 管理员
    SECURITY_ADMIN = "security_admin", _("security administrator")  # 安全管理员


class User(AbstractUser):
    """A member of staff. Citizens do not have accounts."""

    role = models.CharField(_("role"), max_length=32, choices=Role.choices, blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="staff",
    )
    centre = models.ForeignKey(
        CommandCentre, verbose_name=_("command centre"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="staff",
    )
    jurisdiction = models.ForeignKey(
        "regions.Region", verbose_name=_("jurisdiction"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
        help_text=_("The region whose data this person may see. Empty for the whole platform "
                    "(administrators only)."),
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")


class GridAssignment(models.Model):
    """A grid worker (网格员) responsible for a grid."""

    grid = models.ForeignKey(
        "regions.Region", verbose_name=_("grid"), on_delete=models.CASCADE,
        related_name="grid_assignments", limit_choices_to={"level": "grid"},
    )
    worker = models.ForeignKey(
        User, verbose_name=_("grid worker"), on_delete=models.CASCADE, related_name="grid_assignments",
    )
    since = models.DateField(_("since"), auto_now_add=True)

    class Meta:
        verbose_name = _("grid assignment")
        verbose_name_plural = _("grid assignments")
        constraints = [models.UniqueConstraint(fields=["grid", "worker"], name="unique_grid_worker")]

    def __str__(self):
        return f"{self.worker} → {self.grid}"
