"""Seed the configurable lists: dispute types, the place-independent joint-mediation matrix,
risk-signal weights and escalation words (all editable in the admin afterwards)."""

from django.db import migrations

from civicgrid.disputes import defaults


def seed(apps, schema_editor):
    defaults.load_defaults(apps)


class Migration(migrations.Migration):
    dependencies = [("disputes", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
