"""The registry (三实): standard addresses (标准地址), houses (实有房屋), residents (实有人口) and
organisations (实有单位), the care tags that lead residents to services (关爱标签), household visits
(近邻串门) with their needs, public-sentiment and resource lists, and the change history.

Every row carries ``grid_code``, the 15-digit code of the grid it lies in, copied from its
address: jurisdiction is a prefix match on it (one indexed range scan), as for cases.

Personal data (residents' names, ID numbers and phones; organisation contacts' names and phones)
is held in encrypted fields; exact search by ID number or phone goes through a keyed blind index
(``*_index``), never plaintext. Changed only through ``civicgrid.registry.actions``.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.core.fields import BlindIndexField, EncryptedCharField


def _grid_code_field():
    return models.CharField(_("grid code"), max_length=15, db_index=False, editable=False)


def _grid_code_index(name: str) -> models.Index:
    return models.Index(fields=["grid_code"], name=name, opclasses=["varchar_pattern_ops"])


class Address(models.Model):
    """A standard address (标准地址): road, number, building, unit, room inside a community and
    a grid, with a point (WGS-84). Empty parts are stored as ""; a building-level address has
    no room."""

    community = models.ForeignKey(
        "regions.Region", verbose_name=_("community"), on_delete=models.PROTECT, related_name="+",
        limit_choices_to={"level": "community"},
    )
    grid = models.ForeignKey(
        "regions.Region", verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+",
        limit_choices_to={"level": "grid"},
    )
    grid_code = _grid_code_field()
    road = models.CharField(_("road"), max_length=60)  # 路/街/巷
    number = models.CharField(_("number"), max_length=20)  # 门牌号
    building = models.CharField(_("building"), max_length=20, blank=True)  # 栋/幢/号楼
    unit = models.CharField(_("unit"), max_length=20, blank=True)  # 单元
    room = models.CharField(_("room"), max_length=20, blank=True)  # 室/房号
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("standard address")
        verbose_name_plural = _("standard addresses")
        ordering = ["community_id", "road", "number", "building", "unit", "room"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "road", "number", "building", "unit", "room"], name="registry_address_unique",
            ),
        ]
        indexes = [_grid_code_index("registry_address_grid")]

    def __str__(self):
        return self.text

    @property
    def text(self) -> str:
        """深田路 12 号 3 栋 2 单元 501 室 (the community is shown separately)."""
        parts = [f"{self.road}{self.number}号"]
        if self.building:
            parts.append(f"{self.building}栋")
        if self.unit:
            parts.append(f"{self.unit}单元")
        if self.room:
            parts.append(f"{self.room}室")
        return "".join(parts)


class HouseUse(models.TextChoices):
    RESIDENTIAL = "residential", _("residential")  # 住宅
    SHOP = "shop", _("shop")  # 商铺
    FACTORY = "factory", _("factory")  # 厂房
    RENTAL = "rental", _("rental housing")  # 出租屋
    OFFICE = "office", _("office")  # 办公
    WAREHOUSE = "warehouse", _("warehouse")  # 仓库
    OTHER = "other", _("other")  # 其他


class House(models.Model):
    """A house (实有房屋) at a standard address: its use, owner, whether it is rented; its
    occupants are the residents whose ``house`` it is."""

    address = models.OneToOneField(Address, verbose_name=_("address"), on_delete=models.PROTECT, related_name="house")
    grid_code = _grid_code_field()
    use = models.CharField(_("use"), max_length=16, choices=HouseUse.choices, default=HouseUse.RESIDENTIAL)
    owner = models.ForeignKey(
        "Resident", verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="owned_houses",
    )
    is_rented = models.BooleanField(_("rented out"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("house")
        verbose_name_plural = _("houses")
        ordering = ["address__road", "address__number", "address__building", "address__unit", "address__room"]
        indexes = [_grid_code_index("registry_house_grid")]

    def __str__(self):
        return str(self.address)


class Household(models.Model):
    """A household (户) living in a house; the unit of a household visit (串门)."""

    number = models.CharField(_("household number"), max_length=32)  # 户号
    house = models.ForeignKey(House, verbose_name=_("house"), on_delete=models.PROTECT, related_name="households")
    grid_code = _grid_code_field()
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["number"], name="registry_household_number_unique")]
        indexes = [_grid_code_index("registry_household_grid")]

    def __str__(self):
        return self.number


class ResidenceType(models.TextChoices):
    REGISTERED = "registered", _("registered resident")  # 户籍人口
    MIGRANT = "migrant", _("migrant resident")  # 流动人口
    FOREIGN = "foreign", _("foreign resident")  # 境外人员


class IdType(models.TextChoices):
    ID_CARD = "id_card", _("resident identity card")  # 居民身份证
    PASSPORT = "passport", _("passport or other travel document")  # 护照/通行证


class CareTag(models.Model):
    """A care tag (关爱标签) such as 独居老人 or 留守儿童, configured by administrators; each names
    the services it leads to and the department kind that provides them."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=40)
    services = models.TextField(
        _("services"), blank=True,
        help_text=_("What a resident with this tag is offered, one service a line (e.g. weekly call, meal delivery)."),
    )
    provider_kind = models.CharField(
        _("providing department kind"), max_length=32, blank=True,
        help_text=_("The kind of department that provides these services (e.g. civil_affairs)."),
    )
    visit_every_days = models.PositiveSmallIntegerField(
        _("visit every (days)"), null=True, blank=True,
        help_text=_("How often the grid worker should visit a household with this tag; empty for no rule."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("care tag")
        verbose_name_plural = _("care tags")
        ordering = ["order", "code"]

    def __str__(self):
        return self.name


class Resident(models.Model):
    """A resident (实有人口). Name, ID number and phone are encrypted at rest; ``id_number_index``
    and ``phone_index`` are keyed hashes for exact search and duplicate detection."""

    name = EncryptedCharField(_("name"), max_length=60, mask="name")
    id_type = models.CharField(_("ID type"), max_length=16, choices=IdType.choices, default=IdType.ID_CARD)
    id_number = EncryptedCharField(_("ID number"), max_length=32, mask="id_number")
    # Unique: one person is registered once (duplicate detection without plaintext).
    id_number_index = BlindIndexField(_("ID number index"), source="id_number", kind="id_number", db_index=False)
    phone = EncryptedCharField(_("phone"), max_length=20, blank=True, mask="phone")
    phone_index = BlindIndexField(_("phone index"), source="phone", kind="phone")
    residence_type = models.CharField(
        _("residence type"), max_length=16, choices=ResidenceType.choices, default=ResidenceType.REGISTERED,
    )
    house = models.ForeignKey(House, verbose_name=_("house"), on_delete=models.PROTECT, related_name="occupants")
    household = models.ForeignKey(
        Household, verbose_name=_("household"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="members",
    )
    relation = models.CharField(_("relation to the head of household"), max_length=20, blank=True)  # 与户主关系
    care_tags = models.ManyToManyField(CareTag, verbose_name=_("care tags"), blank=True, related_name="residents")
    grid_code = _grid_code_field()
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["id_number_index"], name="registry_resident_unique_person"),
        ]
        indexes = [_grid_code_index("registry_resident_grid")]

    def __str__(self):
        from civicgrid.core.identifiers import mask_name

        return mask_name(self.name)


class OrganisationKind(models.TextChoices):
    COMPANY = "company", _("company")  # 企业
    SOLE_TRADER = "sole_trader", _("individual business")  # 个体工商户
    GOVERNMENT = "government", _("government body")  # 机关
    INSTITUTION = "institution", _("public institution")  # 事业单位
    SOCIAL = "social", _("social organisation")  # 社会组织
    OTHER = "other", _("other")  # 其他


class Organisation(models.Model):
    """An organisation (实有单位) with its unified social credit code (统一社会信用代码), a contact
    and a safety contact (安全责任人). The contacts' names and phones are encrypted."""

    name = models.CharField(_("name"), max_length=120)
    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=OrganisationKind.choices, default=OrganisationKind.COMPANY)
    address = models.ForeignKey(Address, verbose_name=_("address"), on_delete=models.PROTECT, related_name="organisations")
    grid_code = _grid_code_field()
    contact_name = EncryptedCharField(_("contact"), max_length=60, blank=True, mask="name")
    contact_phone = EncryptedCharField(_("contact phone"), max_length=20, blank=True, mask="phone")
    contact_phone_index = BlindIndexField(_("contact phone index"), source="contact_phone", kind="phone")
    safety_contact_name = EncryptedCharField(_("safety contact"), max_length=60, blank=True, mask="name")
    safety_contact_phone = EncryptedCharField(_("safety contact phone"), max_length=20, blank=True, mask="phone")
    safety_contact_phone_index = BlindIndexField(
        _("safety contact phone index"), source="safety_contact_phone", kind="phone",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        indexes = [_grid_code_index("registry_organisation_grid")]

    def __str__(self):
        return self.name


class AppendOnly(Exception):
    pass


class ChangeKind(models.TextChoices):
    CREATE = "create", _("created")
    UPDATE = "update", _("changed")
    DELETE = "delete", _("deleted")
    IMPORT = "import", _("imported")


class ChangeRecord(models.Model):
    """One edit of the registry (变更记录, append-only): who changed which record, when, and which
    fields. Personal values appear only masked (张*, 350203********1234, 139****1234)."""

    entity = models.CharField(_("record type"), max_length=32)  # resident, house, address …
    object_id = models.PositiveBigIntegerField(_("record id"), null=True, blank=True)
    grid_code = models.CharField(_("grid code"), max_length=15, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=ChangeKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="registry_changes",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    changes = models.JSONField(
        _("changes"), default=dict, blank=True,
        help_text=_("Field name → [before, after]; personal data masked."),
    )

    class Meta:
        verbose_name = _("registry change")
        verbose_name_plural = _("registry changes")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["entity", "object_id", "at"], name="registry_change_object")]

    def __str__(self):
        return f"{self.entity}#{self.object_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("The registry history is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("The registry history is append-only.")


class Visit(models.Model):
    """A household visit (近邻串门) by a grid worker: when, how long, what was talked about."""

    household = models.ForeignKey(Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="visits")
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("grid worker"), on_delete=models.PROTECT, related_name="visits",
    )
    grid_code = _grid_code_field()
    started_at = models.DateTimeField(_("visited at"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"))
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("household visit")
        verbose_name_plural = _("household visits")
        ordering = ["-started_at", "-pk"]
        indexes = [
            models.Index(fields=["worker", "started_at"], name="registry_visit_worker_day"),
            _grid_code_index("registry_visit_grid"),
        ]

    def __str__(self):
        return f"{self.household} {self.started_at:%Y-%m-%d %H:%M}"


class ItemKind(models.TextChoices):
    NEED = "need", _("need")  # 需求清单
    SENTIMENT = "sentiment", _("public sentiment")  # 民意清单
    RESOURCE = "resource", _("resource")  # 资源清单


class ItemState(models.TextChoices):
    OPEN = "open", _("open")
    CASE = "case", _("turned into a case")
    DONE = "done", _("done")


class VisitItem(models.Model):
    """An entry of a household's needs (需求), public-sentiment (民意) or resource (资源) list,
    noted during a visit. A need or a problem becomes a case in one step (``case``)."""

    household = models.ForeignKey(Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="items")
    visit = models.ForeignKey(Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="items")
    grid_code = _grid_code_field()
    kind = models.CharField(_("list"), max_length=16, choices=ItemKind.choices)
    text = models.TextField(_("text"))
    state = models.CharField(_("state"), max_length=8, choices=ItemState.choices, default=ItemState.OPEN)
    case = models.OneToOneField(
        "cases.Case", verbose_name=_("case"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="visit_item",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("noted by"), on_delete=models.PROTECT, related_name="+",
    )
    created_at = models.DateTimeField(_("noted at"), default=timezone.now)

    class Meta:
        verbose_name = _("list item")
        verbose_name_plural = _("list items")
        ordering = ["-created_at", "-pk"]
        indexes = [_grid_code_index("registry_item_grid")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text[:30]}"
