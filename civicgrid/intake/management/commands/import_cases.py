"""``manage.py import_cases FILE --format 12345|szcg|open311-csv|csv``: bulk import of cases."""

import signal
import traceback
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from civicgrid.intake import bulk, bulk_formats


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM: a KeyboardInterrupt, so a query in flight is cancelled on the server and
    the open batch is rolled back cleanly."""


def _stop(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


class Command(BaseCommand):
    help = (
        "Import cases from a CSV or .xlsx file in batches (each batch one transaction): every row is "
        "validated, located, classified, checked for duplicates, routed and recorded like a single "
        "report. Row problems go to FILE.errors.csv. Re-running skips rows already imported (by "
        "channel and external id); an interrupted run resumes after its last committed batch."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV (UTF-8 or GB18030) or .xlsx file; the first row names the columns.")
        parser.add_argument("--format", required=True, choices=bulk_formats.FORMATS, dest="fmt",
                            help="12345 work orders, 数字城管 cases, Open311 service requests or civicgrid's own csv.")
        parser.add_argument("--batch-size", type=int, default=bulk.DEFAULT_BATCH_SIZE,
                            help=f"rows per transaction (default {bulk.DEFAULT_BATCH_SIZE})")
        parser.add_argument("--dry-run", action="store_true",
                            help="validate and run every stage, then roll each batch back; write only the error report")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    def handle(self, *args, file, fmt, batch_size, dry_run, no_progress, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        previous = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            summary = bulk.run_import(file, fmt, batch_size=batch_size, dry_run=dry_run,
                                      progress_stream=self.stderr._out, show_progress=not no_progress)
        except FileNotFoundError as exc:
            raise CommandError(f"no such file: {exc.filename}") from None
        except Interrupted as exc:
            # The connection may have been stopped mid-statement (a COPY in flight): drop it, so the
            # server certainly discards the open batch and nothing reuses a half-finished session.
            raw = connection.connection
            if connection.vendor == "sqlite" and raw is not None and raw.in_transaction:
                # Interrupted between two of sqlite3's own steps: end its transaction here, as an
                # in-memory database (the tests') is never really closed.
                raw.rollback()
            connection.close()
            # The frames of the interrupted run hold its open cursors: let them go now (a SQLite
            # statement left open keeps its tables locked for other connections).
            traceback.clear_frames(exc.__traceback__)
            path = Path(file)
            state = bulk._load_checkpoint(bulk.checkpoint_path(path), bulk.file_fingerprint(path), fmt)
            done = state["committed_through_row"] if state else 0
            self.stderr.write(f"\nInterrupted ({exc}); the batch in progress was rolled back. "
                              f"Committed through row {done}: run the same command again to resume.")
            raise SystemExit(130) from None
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
        verb = "would import" if dry_run else "imported"
        lines = [
            f"{verb} {summary.imported} case(s), skipped {summary.skipped} already imported, "
            f"{summary.failed_rows} row(s) with problems ({summary.problems} problem(s)) in {summary.seconds:.1f} s",
        ]
        if summary.resumed_after_row:
            lines.append(f"resumed after row {summary.resumed_after_row}")
        if summary.problems:
            lines.append(f"error report: {summary.errors_file}")
        self.stdout.write("\n".join(lines))
