"""Seed the configurable lists: dispute types, the place-independent joint-mediation matrix,
risk-signal weights and escalation words (all editable in the admin afterwards)."""

from django.db import migrations

from civicgrid.disputes import defaults


def seed(apps, schema_editor):
    DisputeType = apps.get_model("disputes", "DisputeType")
    JointMediationRule = apps.get_model("disputes", "JointMediationRule")
    RiskSignalWeight = apps.get_model("disputes", "RiskSignalWeight")
    EscalationWord = apps.get_model("disputes", "EscalationWord")
    for position, (code, name, category) in enumerate(defaults.TYPES):
        dispute_type, _ = DisputeType.objects.get_or_create(
            code=code, defaults={"name": name, "category_code": category, "position": position},
        )
        lead, assisting = defaults.JOINT_MATRIX[code]
        JointMediationRule.objects.get_or_create(
            dispute_type=dispute_type, region_prefix="", defaults={"lead_kind": lead, "assisting_kinds": assisting},
        )
    for signal, weight in defaults.WEIGHTS.items():
        RiskSignalWeight.objects.get_or_create(signal=signal, defaults={"weight": weight})
    for word in defaults.WORDS:
        EscalationWord.objects.get_or_create(word=word)


class Migration(migrations.Migration):
    dependencies = [("disputes", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
