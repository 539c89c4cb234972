"""Model fields for personal data (个人信息): encrypted at rest, searchable only by blind index.

``EncryptedCharField`` / ``EncryptedTextField`` store ``v1:<key id>:<base64>`` (see
``civicgrid.core.crypto``) in a text column and give back the plaintext on read; ``None`` and
``""`` are stored as they are. ``max_length`` of ``EncryptedCharField`` limits the *plaintext*
(validation and forms); the column is unbounded text because a ciphertext is longer. ``mask``
names how the value is shown by default (``name``: 张*, ``phone``: 139****1234, ``id_number``:
350203********1234, ``text``: stars only).

An encrypted column cannot be searched or sorted: only ``isnull`` and comparison with ``""`` are
allowed (anything else raises ``FieldError`` instead of silently matching nothing). Exact search
goes through a companion ``BlindIndexField``, filled from its source field on every ``save()``
and ``bulk_create()``:

    reporter_phone = EncryptedCharField(_("reporter phone"), max_length=32, blank=True, mask="phone")
    reporter_phone_hash = BlindIndexField(source="reporter_phone", kind="phone")

    Case.objects.filter(**blind_lookup(Case, "reporter_phone", "139 1234 1234"))

A ``save(update_fields=[...])`` that changes the source must list the index field too;
``QuerySet.update()`` bypasses both (use ``save()``).
"""

from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact, IsNull

from civicgrid.core import crypto
from civicgrid.core.identifiers import mask_id_number, mask_name, mask_phone


def mask_text(value) -> str:
    """Every character hidden (a fixed width, so the length is not disclosed)."""
    return "****" if value else ""


MASKS = {
    "name": mask_name,
    "phone": lambda v: mask_phone(v) if v else "",
    "id_number": lambda v: mask_id_number(v) if v else "",
    "text": mask_text,
}


class _EmptyOnlyExact(Exact):
    """``field=""`` works (empty values are stored as they are); any other value would be
    encrypted with a fresh nonce and never match, so it is refused."""

    def get_prep_lookup(self):
        if not hasattr(self.rhs, "resolve_expression") and self.rhs not in ("", None):
            raise FieldError(
                f"{self.lhs.target.name} is encrypted and cannot be searched by value; "
                "filter on its BlindIndexField (civicgrid.core.fields.blind_lookup)."
            )
        return super().get_prep_lookup()


class EncryptedFieldMixin:
    """Encrypts on the way to the database, decrypts on the way back."""

    encrypted = True

    def __init__(self, *args, mask: str = "text", **kwargs):
        if mask not in MASKS:
            raise ValueError(f"Unknown mask {mask!r}; one of {sorted(MASKS)}.")
        self.mask = mask
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.mask != "text":
            kwargs["mask"] = self.mask
        return name, path, args, kwargs

    def get_internal_type(self):
        return "TextField"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return _EmptyOnlyExact
        if lookup_name == "isnull":
            return IsNull
        return None

    def get_transform(self, lookup_name):
        return None

    def masked(self, value) -> str:
        """``value`` as shown to someone without the unmask permission."""
        return MASKS[self.mask](value)


class EncryptedCharField(EncryptedFieldMixin, models.CharField):
    """A short personal value (name, phone, ID number), encrypted at rest (加密存储)."""

    description = "Encrypted string (plaintext up to %(max_length)s)"


class EncryptedTextField(EncryptedFieldMixin, models.TextField):
    """A long personal text (notes about a person), encrypted at rest."""

    description = "Encrypted text"


class BlindIndexField(models.CharField):
    """Keyed hash (HMAC-SHA256, 64 hex) of another field's normalised value, for exact search
    without plaintext (盲索引). Set from ``source`` whenever the row is saved."""

    description = "Blind index of another field"

    def __init__(self, *args, source: str, kind: str, **kwargs):
        if kind not in crypto.INDEX_KINDS:
            raise ValueError(f"Unknown blind index kind {kind!r}; one of {crypto.INDEX_KINDS}.")
        self.source, self.kind = source, kind
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"], kwargs["kind"] = self.source, self.kind
        for key, default in (("max_length", 64), ("editable", False), ("blank", True),
                             ("default", ""), ("db_index", True)):
            if kwargs.get(key, default) == default:
                kwargs.pop(key, None)
        if not self.db_index:
            # Field.deconstruct leaves out db_index=False (its own default), which is not ours.
            kwargs["db_index"] = False
        return name, path, args, kwargs

    def index_of(self, value) -> str:
        return crypto.blind_index(value, self.kind)

    def pre_save(self, model_instance, add):
        digest = self.index_of(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, digest)
        return digest


# --- discovery and lookups -------------------------------------------------------------------------


def encrypted_fields(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedFieldMixin)]


def blind_index_fields(model) -> list[BlindIndexField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]


def is_encrypted_field(model, name: str) -> bool:
    try:
        return isinstance(model._meta.get_field(name), EncryptedFieldMixin)
    except Exception:  # FieldDoesNotExist, or a non-field name
        return False


def blind_lookup(model, source: str, value) -> dict[str, str]:
    """Filter keywords finding rows whose ``source`` equals ``value`` (after normalisation):
    ``Model.objects.filter(**blind_lookup(Model, "phone", "13912341234"))``."""
    for field in blind_index_fields(model):
        if field.source == source:
            return {field.name: field.index_of(value)}
    raise FieldError(f"{model.__name__}.{source} has no BlindIndexField.")


def masked_value(obj, name: str) -> str:
    """The masked display of ``obj.<name>`` for an encrypted field."""
    field = obj._meta.get_field(name)
    return field.masked(getattr(obj, name))
