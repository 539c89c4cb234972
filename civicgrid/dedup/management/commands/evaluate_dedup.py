"""``manage.py evaluate_dedup``: precision and recall of automatic duplicate merging on the
labelled report pairs, at the configured threshold and over a range of thresholds."""

from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from civicgrid.dedup import evaluation, services

TARGET_PRECISION = 0.98
TARGET_RECALL = 0.8


class Command(BaseCommand):
    help = (
        "Score every labelled pair of reports (the same incident via 12345, a grid worker and the web; "
        "different incidents close together) and print the precision and recall of automatic merging "
        "at CIVICGRID_DEDUP_AUTO_MERGE_SCORE, the curve over thresholds and the errors by pair kind."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(evaluation.PAIRS_FILE), help="JSON-lines file of pairs.")
        parser.add_argument("--threshold", type=float, default=None,
                            help="Score for automatic merging (default: CIVICGRID_DEDUP_AUTO_MERGE_SCORE).")
        parser.add_argument("--check", action="store_true",
                            help=f"Exit with an error unless precision ≥ {TARGET_PRECISION} and recall ≥ "
                                 f"{TARGET_RECALL} at the threshold.")
        parser.add_argument("--errors", action="store_true", help="List every wrongly decided pair.")

    def handle(self, *args, file, threshold, check, errors, **options):
        try:
            pairs = evaluation.load_pairs(file)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {file}: {exc}") from exc
        threshold = services.auto_merge_score() if threshold is None else threshold
        scores = evaluation.scored(pairs)
        kinds = Counter(p["kind"] for p in pairs)
        at = evaluation.figures_at(scores, threshold)
        out = self.stdout
        out.write(f"pairs: {len(pairs)} ({sum(p['label'] for p in pairs)} same incident; "
                  + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ")")
        out.write(f"automatic merge at score ≥ {threshold:.2f}: precision {at.precision:.3f}, recall {at.recall:.3f} "
                  f"(merged {at.true_pos + at.false_pos}: {at.true_pos} right, {at.false_pos} wrong; "
                  f"missed {at.false_neg}) — target precision ≥ {TARGET_PRECISION} at recall ≥ {TARGET_RECALL}")
        out.write("threshold  precision  recall")
        for f in evaluation.curve(scores):
            out.write(f"{f.threshold:9.2f}  {f.precision:9.3f}  {f.recall:6.3f}")
        wrong = Counter()
        for pair, score, _reasons in scores:
            merged = score is not None and score >= threshold
            if merged != bool(pair["label"]):
                wrong[pair["kind"]] += 1
        out.write("wrong decisions by pair kind: "
                  + (", ".join(f"{k} {n}/{kinds[k]}" for k, n in sorted(wrong.items())) or "none"))
        if errors:
            for pair, score, reasons in scores:
                merged = score is not None and score >= threshold
                if merged != bool(pair["label"]):
                    out.write(f"#{pair['id']} {pair['kind']} score={score} {reasons}\n  a: {pair['a']['text']}"
                              f"\n  b: {pair['b']['text']}")
        if check and (at.precision < TARGET_PRECISION or at.recall < TARGET_RECALL):
            raise CommandError(f"below target: precision {at.precision:.3f}, recall {at.recall:.3f}")
