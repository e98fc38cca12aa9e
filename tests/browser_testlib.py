"""Browser test helpers: LiteRT.js must be installed (`npm ci`), failing under CI=true.

The handbook: a test that needs a part fails when the part is missing under
CI=true, and skips elsewhere (the browser itself: conftest's `chromium`).
"""

import os

import pytest

from tfcolor.studio import vendor


def require_vendor():
  """node_modules/@litertjs (LiteRT.js), or fail/skip naming `npm ci`."""
  try:
    return vendor.vendor_dir()
  except vendor.VendorMissingError as error:
    if os.environ.get("CI", "").lower() == "true":
      pytest.fail(str(error))
    pytest.skip(str(error))
    raise
