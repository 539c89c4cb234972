"""``civicgrid rotate_data_key``: re-encrypt every encrypted field with the current (first) key.

Finds the fields by type (``civicgrid.core.fields.EncryptedFieldMixin``) in every installed model,
works in primary-key batches (each its own transaction, rows locked while rewritten), skips values
already under the current key — so an interrupted run is simply started again — and reports the
counts per field. ``--rehash`` also recomputes every ``BlindIndexField`` with the current
``CIVICGRID_BLIND_INDEX_KEY`` (after that key was changed).
"""

from collections import Counter

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from civicgrid.core import crypto
from civicgrid.core.fields import blind_index_fields, encrypted_fields


def _models():
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        if encrypted_fields(model) or blind_index_fields(model):
            yield model


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted personal-data field of every model with the first key of "
        "CIVICGRID_DATA_KEYS (batched, resumable); with --rehash also recompute the blind indexes "
        "with CIVICGRID_BLIND_INDEX_KEY."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction (default 500).")
        parser.add_argument("--rehash", action="store_true",
                            help="Also recompute every blind index (after changing CIVICGRID_BLIND_INDEX_KEY).")
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; write nothing.")

    def handle(self, *args, batch_size=500, rehash=False, dry_run=False, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        current = crypto.current_key_id()
        self.stdout.write(f"Current key: {current}{' (dry run)' if dry_run else ''}")
        totals = Counter()
        for model in _models():
            counts = self._rotate_model(model, batch_size, rehash, dry_run)
            for (field, what), n in sorted(counts.items()):
                self.stdout.write(f"  {model._meta.label}.{field}: {what} {n}")
            for (_, what), n in counts.items():
                totals[what] += n
        summary = ", ".join(f"{what} {n}" for what, n in sorted(totals.items())) or "nothing to do"
        self.stdout.write(f"Done: {summary}.")
        if totals.get("unreadable"):
            raise CommandError(
                f"{totals['unreadable']} values could not be decrypted with the configured keys "
                "(listed above); keep every old key in CIVICGRID_DATA_KEYS until they are fixed."
            )

    def _rotate_model(self, model, batch_size: int, rehash: bool, dry_run: bool) -> Counter:
        meta = model._meta
        enc = encrypted_fields(model)
        idx = blind_index_fields(model) if rehash else []
        columns = list(dict.fromkeys(
            [f.column for f in enc] + [f.column for f in idx] + [meta.get_field(f.source).column for f in idx]
        ))
        if not columns:
            return Counter()
        quote = connection.ops.quote_name
        pk = meta.pk.column
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        select = (
            f"SELECT {quote(pk)}, {', '.join(quote(c) for c in columns)} FROM {quote(meta.db_table)} "
            f"WHERE {quote(pk)} > %s ORDER BY {quote(pk)} LIMIT %s{lock}"
        )
        encrypted_columns = {f.column for f in enc}
        counts: Counter = Counter()
        last = None
        while True:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    if last is None:
                        cursor.execute(select.replace(f"WHERE {quote(pk)} > %s ", ""), [batch_size])
                    else:
                        cursor.execute(select, [last, batch_size])
                    rows = cursor.fetchall()
                if not rows:
                    break
                last = rows[-1][0]
                changes = []
                for row in rows:
                    stored = dict(zip(columns, row[1:], strict=True))
                    clear: dict[str, str | None] = {}
                    new: dict[str, str] = {}
                    for field in enc:
                        value = stored[field.column]
                        if value is None or value == "":
                            counts[(field.name, "empty")] += 1
                            continue
                        if not crypto.is_encrypted(value):
                            clear[field.column] = value
                            new[field.column] = crypto.encrypt(value)
                            counts[(field.name, "encrypted (was clear)")] += 1
                            continue
                        if not crypto.needs_reencryption(value):
                            counts[(field.name, "already current")] += 1
                            continue
                        try:
                            clear[field.column] = crypto.decrypt(value)
                        except crypto.DecryptionError as error:
                            counts[(field.name, "unreadable")] += 1
                            self.stderr.write(f"  {meta.label}.{field.name} pk={row[0]}: {error}")
                            continue
                        new[field.column] = crypto.encrypt(clear[field.column])
                        counts[(field.name, "re-encrypted")] += 1
                    for field in idx:
                        source = meta.get_field(field.source)
                        value = stored[source.column]
                        if source.column in encrypted_columns and crypto.is_encrypted(value):
                            if source.column not in clear:
                                try:
                                    clear[source.column] = crypto.decrypt(value)
                                except crypto.DecryptionError:
                                    counts[(field.name, "unreadable")] += 1
                                    continue
                            value = clear[source.column]
                        digest = field.index_of(value)
                        if digest != (stored[field.column] or ""):
                            new[field.column] = digest
                            counts[(field.name, "rehashed")] += 1
                        else:
                            counts[(field.name, "hash unchanged")] += 1
                    if new:
                        changes.append((row[0], new))
                if not dry_run:
                    # One statement per set of changed columns, sent with executemany.
                    by_columns: dict[tuple, list] = {}
                    for key, new in changes:
                        by_columns.setdefault(tuple(new), []).append([*new.values(), key])
                    with connection.cursor() as cursor:
                        for changed, params in by_columns.items():
                            assignments = ", ".join(f"{quote(c)} = %s" for c in changed)
                            cursor.executemany(
                                f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(pk)} = %s", params,
                            )
        return counts
