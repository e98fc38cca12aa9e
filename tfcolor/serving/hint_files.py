"""Reads colour hints the way artists give them, as RGBA uint8 (H, W, 4) arrays.

Two formats:
  - a PNG (or any RGBA image) hint layer: paint on a transparent layer; pixels
    with alpha > 0 are hints of their RGB colour;
  - a text file of points, one per line, `x y #rrggbb [size]`: the square of
    side `size` (default 3 pixels) centred on (x, y) gets that colour. x and y
    are pixels, or fractions of the width/height when both are in [0, 1] and
    at least one has a decimal point. `#` starts a comment line.
"""

import os

from absl import logging
import numpy as np
from PIL import Image

DEFAULT_POINT_SIZE = 3
TEXT_SUFFIXES = (".txt", ".points")


def parse_points(text, height, width, source="points file"):
  """Points text -> RGBA hints of (height, width). Raises ValueError naming the line."""
  hints = np.zeros((height, width, 4), np.uint8)
  for number, line in enumerate(text.splitlines(), 1):
    line = line.strip()
    if not line or line.startswith("#"):
      continue
    parts = line.split()
    try:
      if len(parts) not in (3, 4):
        raise ValueError("expected `x y #rrggbb [size]`")
      x_text, y_text, colour = parts[:3]
      x, y = float(x_text), float(y_text)
      if not (colour.startswith("#") and len(colour) == 7):
        raise ValueError(f"colour {colour!r} is not #rrggbb")
      rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
      size = int(parts[3]) if len(parts) == 4 else DEFAULT_POINT_SIZE
      if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    except ValueError as error:
      raise ValueError(f"{source}, line {number}: {error}: {line!r}") from None
    if 0 <= x <= 1 and 0 <= y <= 1 and ("." in x_text or "." in y_text):
      x, y = x * (width - 1), y * (height - 1)
    col, row = int(round(x)), int(round(y))
    if not (0 <= col < width and 0 <= row < height):
      raise ValueError(f"{source}, line {number}: point ({x_text}, {y_text}) is outside "
                       f"the {width}x{height} line art")
    top, left = max(0, row - (size - 1) // 2), max(0, col - (size - 1) // 2)
    hints[top:top + size, left:left + size] = rgb + [255]
  return hints


def read_hints(path, height, width):
  """A hint layer image or points file -> RGBA uint8 (height, width, 4).

  A hint layer of another size is resized (nearest, so colours stay exact) to
  the line art, with a warning.
  """
  if not os.path.isfile(path):
    raise FileNotFoundError(f"hints file {path} does not exist")
  if path.lower().endswith(TEXT_SUFFIXES):
    with open(path, encoding="utf-8") as f:
      return parse_points(f.read(), height, width, source=path)
  try:
    with Image.open(path) as image:
      layer = image.convert("RGBA")
  except (OSError, SyntaxError) as error:
    raise ValueError(f"hints file {path} is neither an image nor a points file "
                     f"({TEXT_SUFFIXES}): {error}") from None
  if layer.size != (width, height):
    logging.warning("hints %s are %dx%d but the line art is %dx%d: resizing the "
                    "hints (nearest)", path, layer.size[0], layer.size[1], width, height)
    layer = layer.resize((width, height), Image.Resampling.NEAREST)
  return np.asarray(layer, np.uint8)


def read_lineart(path):
  """Any image PIL reads -> uint8 grayscale (H, W); colour line art is converted."""
  if not os.path.isfile(path):
    raise FileNotFoundError(f"line art {path} does not exist")
  try:
    with Image.open(path) as image:
      return lineart_from_image(image)
  except (OSError, SyntaxError) as error:
    raise ValueError(f"line art {path} is not an image PIL can read: {error}") from None


def lineart_from_image(image):
  """An opened PIL image -> uint8 grayscale (H, W); transparent paper is white paper.

  The one conversion of line art files, shared by this CLI path and the studio's
  uploads, so both give the model the same pixels.
  """
  if image.mode in ("RGBA", "LA", "P"):
    background = Image.new("RGBA", image.size, (255, 255, 255, 255))
    image = Image.alpha_composite(background, image.convert("RGBA"))
  return np.asarray(image.convert("L"), np.uint8)
