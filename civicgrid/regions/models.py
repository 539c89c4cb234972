"""The region tree: city → district → street/town → community/village → grid (区划与网格).

Official codes are prefixes of their children (district 350211, street 350211001, community
350211001001, grid 350211001001001), so a region's subtree is a prefix match on ``code``.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    class Level(models.TextChoices):
        CITY = "city", _("city")  # 市
        DISTRICT = "district", _("district")  # 区/县
        STREET = "street", _("street or town")  # 街道/镇
        COMMUNITY = "community", _("community or village")  # 社区/村
        GRID = "grid", _("grid")  # 网格

    # Digits in the stored code per level. Statistical codes are 12 digits long with zero padding;
    # we store them as published (12 digits) and grids as 15 (GB/T 30428.1).
    code = models.CharField(_("code"), max_length=15, unique=True)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, db_index=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    geometry = models.JSONField(_("boundary (GeoJSON, WGS-84)"), null=True, blank=True)
    geometry_is_demo = models.BooleanField(
        _("demo geometry"), default=False,
        help_text=_("Generated for the demo, not an official boundary."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["code"], name="region_code_prefix", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def prefix(self) -> str:
        """The code prefix shared by this region and everything inside it."""
        return significant_prefix(self.code, self.level)


LEVEL_PREFIX_LENGTH = {
    Region.Level.CITY: 4,
    Region.Level.DISTRICT: 6,
    Region.Level.STREET: 9,
    Region.Level.COMMUNITY: 12,
    Region.Level.GRID: 15,
}


def significant_prefix(code: str, level: str) -> str:
    """``350211000000`` at district level → ``350211``: the part its descendants share."""
    return code[: LEVEL_PREFIX_LENGTH[Region.Level(level)]]


class RegionGeneration(models.Model):
    """One row whose token changes whenever regions or their geometry change.

    In-memory indexes (the point locator, the address resolver) remember the token they were built
    from and compare it with this row once per call — one primary-key read, however many points —
    so every process sees an import as soon as it commits. A random token rather than a bare counter
    means a rolled-back change can never be mistaken for a committed one.
    """

    key = models.CharField(_("key"), max_length=32, primary_key=True)
    token = models.CharField(_("token"), max_length=32)
    counter = models.PositiveBigIntegerField(_("generation"), default=0)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("region generation")
        verbose_name_plural = _("region generations")

    def __str__(self):
        return f"{self.key} #{self.counter}"
