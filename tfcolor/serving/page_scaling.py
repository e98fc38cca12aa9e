"""Pages larger than `max_side` go through the model scaled down, and come back full size.

The model's cost grows with the pixel count, and a model trained on 512 px
crops colours a 4000 px scan no better than a 1024 px one. `colorize_page`
scales the line art down with an area filter and the hint layer so that every
hint stays a hint of its own colour: a small pixel is hinted when any pixel of
its area was, and gets the mean colour of those hinted pixels (exactly the
colour of a one-colour stroke); alpha stays binary (255 or 0). The coloured
page is scaled back up (bicubic) to the line art's size.
"""

import numpy as np
from PIL import Image

DEFAULT_MAX_SIDE = 1024


def scaled_size(height, width, max_side):
  """(height, width) scaled to fit `max_side`; unchanged if max_side <= 0 or it fits."""
  if max_side <= 0 or max(height, width) <= max_side:
    return height, width
  scale = max_side / max(height, width)
  return max(1, round(height * scale)), max(1, round(width * scale))


def _resize_channel(values, size):
  """A float32 (H, W) array area-resized to size (height, width)."""
  image = Image.fromarray(np.asarray(values, np.float32), mode="F")
  return np.asarray(image.resize((size[1], size[0]), Image.Resampling.BOX))


def scale_lineart(lineart, size):
  """uint8 (H, W) line art -> (height, width) of `size`, area filter."""
  return np.asarray(Image.fromarray(lineart).resize((size[1], size[0]),
                                                    Image.Resampling.BOX))


def scale_hints(hints, size):
  """uint8 RGBA (H, W, 4) hints -> `size`: mean colour of the hinted pixels, binary alpha."""
  mask = (hints[..., 3] > 0).astype(np.float32)
  coverage = _resize_channel(mask, size)
  scaled = np.zeros(tuple(size) + (4,), np.uint8)
  hinted = coverage > 0
  for channel in range(3):
    weighted = _resize_channel(hints[..., channel] * mask, size)
    mean = weighted[hinted] / coverage[hinted]
    scaled[..., channel][hinted] = np.clip(np.round(mean), 0, 255).astype(np.uint8)
  scaled[..., 3] = np.where(hinted, 255, 0).astype(np.uint8)
  return scaled


def colorize_page(colorizer, lineart, hints, max_side):
  """Colours one page, scaled down to `max_side` for the model if larger.

  Args:
    colorizer: has `colorize_batch(lineart [B,H,W,1], hints [B,H,W,4]) -> uint8 [B,H,W,3]`.
    lineart: uint8 (H, W, 1).
    hints: uint8 RGBA (H, W, 4).
    max_side: the longest side the model sees (<= 0: no limit).

  Returns:
    (uint8 image (H, W, 3), whether the page was scaled for the model).
  """
  lineart, hints = np.asarray(lineart, np.uint8), np.asarray(hints, np.uint8)
  height, width = lineart.shape[:2]
  if lineart.shape != (height, width, 1) or hints.shape != (height, width, 4):
    raise ValueError(f"expected line art (H, W, 1) and hints (H, W, 4) of one size, got "
                     f"{lineart.shape} and {hints.shape}")
  size = scaled_size(height, width, max_side)
  if size == (height, width):
    return colorizer.colorize_batch(lineart[None], hints[None])[0], False
  small = colorizer.colorize_batch(scale_lineart(lineart[..., 0], size)[None, ..., None],
                                   scale_hints(hints, size)[None])[0]
  image = Image.fromarray(np.asarray(small, np.uint8)).resize((width, height),
                                                              Image.Resampling.BICUBIC)
  return np.asarray(image), True
