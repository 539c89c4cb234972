"""Personal data: what field encryption costs, and how fast ``rotate_data_key`` re-encrypts.

* per value: ``crypto.encrypt`` + ``crypto.decrypt`` (AES-256-GCM with our format) against raw
  ``AESGCM`` on the same bytes, and the blind index (HMAC-SHA256) against raw ``hmac``;
* rotation: ``rotate_data_key`` over every case of the bench database with a new first key, in
  a transaction that is rolled back afterwards (the bench data stay under their key).
"""

import base64
import hashlib
import hmac
import io
import os
import time

N = 20_000


class _Rollback(Exception):
    pass


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


def run() -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    from civicgrid.cases.models import Case
    from civicgrid.core import crypto

    values = [f"139{i:08d}" for i in range(N)]
    started = time.perf_counter()
    tokens = [crypto.encrypt(v) for v in values]
    for t in tokens:
        crypto.decrypt(t)
    ours = time.perf_counter() - started

    key = crypto.data_keys()[0].key
    aead = AESGCM(key)
    started = time.perf_counter()
    sealed = []
    for v in values:
        nonce = os.urandom(12)
        sealed.append((nonce, aead.encrypt(nonce, v.encode(), b"v1:x")))
    for nonce, box in sealed:
        aead.decrypt(nonce, box, b"v1:x")
    raw = time.perf_counter() - started
    print(f"encrypt+decrypt one phone: {_rate(N, ours)}; raw AESGCM {_rate(N, raw)}; ratio {raw / ours:.2f}")

    started = time.perf_counter()
    for v in values:
        crypto.blind_index(v, crypto.PHONE)
    ours = time.perf_counter() - started
    index_key = crypto.blind_index_key()
    started = time.perf_counter()
    for v in values:
        hmac.new(index_key, v.encode(), hashlib.sha256).hexdigest()
    raw = time.perf_counter() - started
    print(f"blind index of one phone: {_rate(N, ours)}; raw HMAC-SHA256 {_rate(N, raw)}; ratio {raw / ours:.2f}")

    cases = Case.objects.count()
    original = settings.CIVICGRID_DATA_KEYS
    new_key = "bench:" + base64.b64encode(os.urandom(32)).decode()
    settings.CIVICGRID_DATA_KEYS = [new_key, *original]
    out = io.StringIO()
    try:
        with transaction.atomic():
            started = time.perf_counter()
            call_command("rotate_data_key", "--batch-size", "1000", stdout=out)
            seconds = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    finally:
        settings.CIVICGRID_DATA_KEYS = original
    changed = sum(int(line.rsplit(" ", 1)[1]) for line in out.getvalue().splitlines()
                  if line.startswith("  ") and ("re-encrypted" in line or "(was clear)" in line))
    print(f"rotate_data_key: {cases:,} cases, {changed:,} values re-encrypted in {seconds:.1f} s "
          f"({_rate(cases, seconds)} rows; rolled back)")
