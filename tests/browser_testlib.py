"""Browser test helpers: LiteRT.js must be installed (`npm ci`), failing under CI=true.

The handbook: a test that needs a part fails when the part is missing under
CI=true, and skips elsewhere (the browser itself: conftest's `chromium`).
"""

import os

import numpy as np
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


def canvas_pixels(page, canvas_id):
  """A canvas's RGBA pixels (H, W, 4) uint8, read in the page."""
  width, height, data = page.evaluate("""(id) => {
      const canvas = document.getElementById(id);
      const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
      return [canvas.width, canvas.height, Array.from(pixels.data)];
  }""", canvas_id)
  return np.array(data, np.uint8).reshape(height, width, 4)
