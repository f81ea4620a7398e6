"""Moved: the browser fixtures live in tests/conftest.py, the helpers in tests/browser_helpers.py."""

from browser_helpers import *  # noqa: F401,F403
from browser_helpers import browser_fixture, page_fixture  # noqa: F401
