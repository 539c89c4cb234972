# The shared headless-Chromium fixture of the page tests.
from .browser import browser  # noqa: F401
