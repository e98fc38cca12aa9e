"""Browser test helpers: what a browser test needs, failing under CI=true when missing.

The handbook: a test that needs a part fails when the part is missing under
CI=true (Debian's Chromium, LiteRT.js from `npm ci`), and skips elsewhere.
"""

import contextlib
import os
import shutil

import pytest

from tfcolor.studio import browser_harness, vendor


def missing_part(message):
  """Fails under CI=true, skips elsewhere."""
  if os.environ.get("CI", "").lower() == "true":
    pytest.fail(message)
  pytest.skip(message)


def require_vendor():
  """node_modules/@litertjs (LiteRT.js), or fail/skip naming `npm ci`."""
  try:
    return vendor.vendor_dir()
  except vendor.VendorMissingError as error:
    return missing_part(str(error))


@contextlib.contextmanager
def chromium_browser():
  """browser_harness.chromium(), or fail/skip when Debian's chromium is missing."""
  if not shutil.which(browser_harness.CHROMIUM):
    missing_part(f"{browser_harness.CHROMIUM} not found (apt-get install chromium)")
  with browser_harness.chromium() as browser:
    yield browser
