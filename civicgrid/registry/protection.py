"""The registry's one door to personal-data protection (``civicgrid.core.crypto``,
``civicgrid.core.fields``, ``civicgrid.audit``): blind indexes for exact search and duplicate
detection, and masks for display and history. Nothing in the registry hashes or masks personal
data any other way."""

from civicgrid.core import crypto
from civicgrid.core.fields import MASKS, is_encrypted_field

ID_NUMBER, PHONE = crypto.ID_NUMBER, crypto.PHONE


def blind_index(value: str, kind: str) -> str:
    """The keyed hash of an identifier (``ID_NUMBER`` or ``PHONE``); "" for an empty value."""
    return crypto.blind_index(value, kind)


def mask(model, field: str, value):
    """``value`` of ``model.field`` as shown by default: masked for encrypted fields."""
    if value in (None, "") or not is_encrypted_field(model, field):
        return value
    return MASKS[model._meta.get_field(field).mask](value)
