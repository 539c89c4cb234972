"""Authenticated encryption with keys from settings, and the blind index."""

import base64
import os

import pytest
from django.core.exceptions import ImproperlyConfigured

from civicgrid.core import crypto

KEY_A = "a:" + base64.b64encode(b"A" * 32).decode()
KEY_B = "b:" + base64.b64encode(b"B" * 32).decode()
INDEX_1 = base64.b64encode(b"1" * 32).decode()
INDEX_2 = base64.b64encode(b"2" * 32).decode()


def test_a_value_round_trips_and_is_never_stored_in_clear(settings):
    # given one key
    settings.CIVICGRID_DATA_KEYS = [KEY_A]
    # when a name is encrypted twice
    first, second = crypto.encrypt("张三丰"), crypto.encrypt("张三丰")
    # then each ciphertext names its key, hides the text, differs (fresh nonce) and opens again
    assert first.startswith("v1:a:") and "张三丰" not in first
    assert first != second
    assert crypto.decrypt(first) == crypto.decrypt(second) == "张三丰"


def test_an_altered_ciphertext_or_relabelled_key_id_is_refused(settings):
    settings.CIVICGRID_DATA_KEYS = [KEY_A, KEY_B]
    token = crypto.encrypt("13912341234")
    raw = bytearray(base64.b64decode(token.split(":", 2)[2]))
    raw[-1] ^= 1
    tampered = "v1:a:" + base64.b64encode(bytes(raw)).decode()
    # when one bit changes / then decryption fails instead of returning something wrong
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(tampered)
    # and the key id is authenticated: the same bytes under another id do not open
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token.replace("v1:a:", "v1:b:"))
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("13912341234")


def test_the_first_key_encrypts_and_every_key_decrypts(settings):
    # given a value written under key a
    settings.CIVICGRID_DATA_KEYS = [KEY_A]
    old = crypto.encrypt("350203199001011234")
    # when key b is put first
    settings.CIVICGRID_DATA_KEYS = [KEY_B, KEY_A]
    # then new values use b, the old one still opens and needs re-encryption
    assert crypto.encrypt("x").startswith("v1:b:")
    assert crypto.decrypt(old) == "350203199001011234"
    assert crypto.needs_reencryption(old)
    # and once a is removed, the old value no longer opens
    settings.CIVICGRID_DATA_KEYS = [KEY_B]
    with pytest.raises(crypto.DecryptionError, match="not in CIVICGRID_DATA_KEYS"):
        crypto.decrypt(old)


@pytest.mark.parametrize("entries, message", [
    ([], "empty"),
    (["nokeyid"], "key id"),
    (["a:not base64!"], "not valid base64"),
    (["a:" + base64.b64encode(b"short").decode()], "needs 32"),
    ([KEY_A, KEY_A.replace("a:", "a:", 1)], "twice"),
])
def test_malformed_key_settings_are_refused(entries, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        crypto.parse_data_keys(entries)


def test_blind_index_normalises_phones_and_id_numbers_and_depends_on_its_key(settings):
    settings.CIVICGRID_BLIND_INDEX_KEY = INDEX_1
    phone = crypto.blind_index("13912341234", crypto.PHONE)
    # phones: spaces, hyphens and the country code do not matter
    for written in ("139 1234 1234", "139-1234-1234", "+86 139 1234 1234", "0086 13912341234"):
        assert crypto.blind_index(written, crypto.PHONE) == phone
    assert crypto.blind_index("13912341235", crypto.PHONE) != phone
    # ID numbers: a lower-case x and separators do not matter
    assert crypto.blind_index("11010519491231002x", crypto.ID_NUMBER) == crypto.blind_index(
        "110105 19491231 002X", crypto.ID_NUMBER)
    # the kind is part of the hash; the plaintext is not in it; empty stays empty
    assert crypto.blind_index("13912341234", crypto.TEXT) != phone
    assert "13912341234" not in phone and len(phone) == 64
    assert crypto.blind_index("", crypto.PHONE) == ""
    # another index key gives other hashes
    settings.CIVICGRID_BLIND_INDEX_KEY = INDEX_2
    assert crypto.blind_index("13912341234", crypto.PHONE) != phone


def test_test_settings_use_the_development_keys(settings):
    if os.environ.get("CIVICGRID_DATA_KEYS"):
        pytest.skip("keys given in the environment")
    # the test settings have no keys in the environment, so the fixed development ones apply
    assert settings.CIVICGRID_DATA_KEYS == crypto.development_data_keys()
    assert crypto.current_key_id() == crypto.DEVELOPMENT_KEY_ID
