"""Encryption of personal data at rest (个人信息加密存储) and keyed hashes for exact search.

* **Authenticated encryption**: AES-256-GCM (``cryptography``), a fresh 96-bit nonce per value.
  A stored value reads ``v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>``; the prefix
  ``v1:<key id>`` is authenticated too (associated data), so a value cannot be moved to another
  key id or version unnoticed. Any change to a stored value makes decryption fail
  (``DecryptionError``) instead of returning something wrong.
* **Keys come from the environment**: ``settings.CIVICGRID_DATA_KEYS`` is an ordered list of
  ``"<key id>:<base64 32-byte key>"``; the **first** encrypts, **all** decrypt (so a new key is put
  first, ``civicgrid rotate_data_key`` re-encrypts, then the old key can be removed).
* **Blind index** (keyed hash) for exact search without plaintext:
  ``HMAC-SHA256(CIVICGRID_BLIND_INDEX_KEY, kind ‖ normalised value)`` as 64 hex characters. ID
  numbers are upper-cased without separators, phones reduced to digits (mainland mobiles without
  ``+86``), other text stripped and NFKC-normalised. The kind is part of the hash, so a phone and
  an ID number with the same digits never collide.

Development and test settings derive fixed keys from public labels (``development_data_keys``);
production refuses to start without real keys (``civicgrid.settings_production``).
"""

import base64
import binascii
import hashlib
import hmac
import os
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured

VERSION = "v1"
PREFIX = VERSION + ":"
NONCE_BYTES = 12
KEY_BYTES = 32
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")

# Labels the development keys are derived from: public on purpose, never for real data.
_DEVELOPMENT_DATA_LABEL = b"civicgrid development data key - not for real data"
_DEVELOPMENT_INDEX_LABEL = b"civicgrid development blind index key - not for real data"
DEVELOPMENT_KEY_ID = "dev"


class DecryptionError(ValueError):
    """A stored value is not a ciphertext this installation can open: unknown key id, wrong
    format, or altered (the authentication tag does not match)."""


@dataclass(frozen=True)
class DataKey:
    id: str
    key: bytes


# --- configuration ------------------------------------------------------------------------------


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{what} is not valid base64.") from None


def parse_data_keys(entries) -> tuple[DataKey, ...]:
    """``["k2:BASE64", "k1:BASE64"]`` (or the same comma-separated in one string) → keys, first
    = the one that encrypts. Raises ``ImproperlyConfigured`` naming what is wrong."""
    if isinstance(entries, str):
        entries = [e for e in entries.split(",") if e.strip()]
    keys: list[DataKey] = []
    for entry in entries or []:
        key_id, sep, encoded = str(entry).strip().partition(":")
        if not sep or not _KEY_ID.fullmatch(key_id):
            raise ImproperlyConfigured(
                "CIVICGRID_DATA_KEYS entries are '<key id>:<base64 key>' with a key id of 1-16 "
                "letters, digits, '-' or '_'."
            )
        key = _b64decode(encoded, f"CIVICGRID_DATA_KEYS key {key_id!r}")
        if len(key) != KEY_BYTES:
            raise ImproperlyConfigured(
                f"CIVICGRID_DATA_KEYS key {key_id!r} has {len(key)} bytes; AES-256 needs {KEY_BYTES}."
            )
        if any(k.id == key_id for k in keys):
            raise ImproperlyConfigured(f"CIVICGRID_DATA_KEYS names key id {key_id!r} twice.")
        keys.append(DataKey(key_id, key))
    if not keys:
        raise ImproperlyConfigured("CIVICGRID_DATA_KEYS is empty.")
    return tuple(keys)


def parse_blind_index_key(encoded: str) -> bytes:
    key = _b64decode(encoded or "", "CIVICGRID_BLIND_INDEX_KEY")
    if len(key) < 32:
        raise ImproperlyConfigured("CIVICGRID_BLIND_INDEX_KEY must be at least 32 bytes (base64).")
    return key


def development_data_keys() -> list[str]:
    """The fixed development key (settings format). Only DEBUG and test settings use it."""
    key = hashlib.sha256(_DEVELOPMENT_DATA_LABEL).digest()
    return [f"{DEVELOPMENT_KEY_ID}:{base64.b64encode(key).decode()}"]


def development_blind_index_key() -> str:
    return base64.b64encode(hashlib.sha256(_DEVELOPMENT_INDEX_LABEL).digest()).decode()


def generate_data_key(key_id: str) -> str:
    """A new random key in settings format, e.g. for ``CIVICGRID_DATA_KEYS``."""
    if not _KEY_ID.fullmatch(key_id):
        raise ValueError("A key id is 1-16 letters, digits, '-' or '_'.")
    return f"{key_id}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"


@lru_cache(maxsize=8)
def _keys_from(entries: tuple[str, ...]) -> tuple[DataKey, ...]:
    return parse_data_keys(list(entries))


@lru_cache(maxsize=16)
def _aead(key: bytes) -> AESGCM:
    """One AESGCM object per key (building it runs the key schedule; it is thread-safe)."""
    return AESGCM(key)


@lru_cache(maxsize=8)
def _index_key_from(encoded: str) -> bytes:
    return parse_blind_index_key(encoded)


def data_keys() -> tuple[DataKey, ...]:
    """The configured keys, first = current (read from settings on each call, parsed once)."""
    from django.conf import settings

    configured = settings.CIVICGRID_DATA_KEYS
    if isinstance(configured, str):
        configured = [e for e in configured.split(",") if e.strip()]
    return _keys_from(tuple(configured))


def current_key_id() -> str:
    return data_keys()[0].id


def blind_index_key() -> bytes:
    from django.conf import settings

    return _index_key_from(settings.CIVICGRID_BLIND_INDEX_KEY)


# --- encryption -----------------------------------------------------------------------------------


def _aad(key_id: str) -> bytes:
    return f"{VERSION}:{key_id}".encode()


def encrypt(plaintext: str) -> str:
    """``plaintext`` → ``v1:<key id>:<base64>`` under the current (first) key."""
    key = data_keys()[0]
    nonce = os.urandom(NONCE_BYTES)
    sealed = _aead(key.key).encrypt(nonce, str(plaintext).encode("utf-8"), _aad(key.id))
    return f"{PREFIX}{key.id}:{base64.b64encode(nonce + sealed).decode('ascii')}"


def is_encrypted(value) -> bool:
    """Whether ``value`` has the shape of a stored ciphertext (not whether it opens)."""
    return isinstance(value, str) and value.startswith(PREFIX) and value.count(":") >= 2


def key_id_of(token: str) -> str:
    if not is_encrypted(token):
        raise DecryptionError("Not an encrypted value.")
    return token.split(":", 2)[1]


def decrypt(token: str) -> str:
    """The plaintext of a stored ``v1:<key id>:<base64>`` value; ``DecryptionError`` if it does
    not open with the configured key of that id."""
    if not is_encrypted(token):
        raise DecryptionError("Not an encrypted value (expected 'v1:<key id>:<base64>').")
    _, key_id, encoded = token.split(":", 2)
    key = next((k for k in data_keys() if k.id == key_id), None)
    if key is None:
        raise DecryptionError(f"Key id {key_id!r} is not in CIVICGRID_DATA_KEYS.")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError("The encrypted value is not valid base64.") from None
    if len(raw) < NONCE_BYTES + 16:
        raise DecryptionError("The encrypted value is too short.")
    try:
        plain = _aead(key.key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(key_id))
    except InvalidTag:
        raise DecryptionError("The encrypted value was altered or belongs to another key.") from None
    return plain.decode("utf-8")


def needs_reencryption(token: str) -> bool:
    """Whether a stored value is under a key other than the current one."""
    return is_encrypted(token) and key_id_of(token) != current_key_id()


# --- blind index ----------------------------------------------------------------------------------

ID_NUMBER = "id_number"
PHONE = "phone"
TEXT = "text"
USCC = "uscc"
INDEX_KINDS = (ID_NUMBER, PHONE, TEXT, USCC)
_NON_DIGITS = re.compile(r"\D")
_SEPARATORS = re.compile(r"[\s\-]")


def normalize_for_index(value, kind: str) -> str:
    """The canonical form hashed for ``kind``: ID numbers and credit codes upper case without
    separators; phones digits only (a mainland mobile without its ``86`` country code); text
    NFKC-normalised and stripped."""
    if kind not in INDEX_KINDS:
        raise ValueError(f"Unknown blind index kind {kind!r}; one of {INDEX_KINDS}.")
    text = unicodedata.normalize("NFKC", str(value if value is not None else "")).strip()
    if kind in (ID_NUMBER, USCC):
        return _SEPARATORS.sub("", text).upper()
    if kind == PHONE:
        digits = _NON_DIGITS.sub("", text)
        for country in ("0086", "86"):
            rest = digits[len(country):]
            if digits.startswith(country) and len(rest) == 11 and rest.startswith("1"):
                return rest
        return digits
    return text


def blind_index(value, kind: str) -> str:
    """64 hex characters identifying ``value`` for exact search, or ``""`` for an empty value."""
    normalized = normalize_for_index(value, kind)
    if not normalized:
        return ""
    message = f"{kind}\x00{normalized}".encode()
    return hmac.new(blind_index_key(), message, hashlib.sha256).hexdigest()
