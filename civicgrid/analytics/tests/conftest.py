# The case tests' small city (two districts, centres, departments, staff) and their clock.
from civicgrid.cases.tests.conftest import city, clock, report, sla_rules  # noqa: F401
