"""The ``civicgrid`` command: every operator task (``civicgrid help`` lists them; each has --help).

It is ``manage.py`` under a name an operator can find: ``civicgrid import_divisions FILE.csv``,
``civicgrid import_grids FILE.geojson``, ``civicgrid load_demo``, ``civicgrid migrate`` …
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["civicgrid", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
