"""Large pages are colourised at a bounded size and scaled back.

The generator's activation memory grows with the page area: at the default
widths about MEMORY_GB_PER_MEGAPIXEL GB per megapixel on CPU on top of the
1.6 GB of the built model (`python -m tfcolor.benchmarks.page_memory`: a
1024x1024 page peaked at 3.0 GB, a 4000x3000 page would need about 18 GB).
The default `DEFAULT_MAX_SIDE` keeps a page within about 3 GB. `colorize_page` runs a page whose longer side exceeds `max_side` at
`scaled_size` and resizes the result back to the page's size. Shared by
`tfcolor.colorize` and the studio, so both scale pages the same way.

Scaling down: line art with an area filter (thin lines turn grey instead of
vanishing); hints point-sampled, so colours stay exact and alpha stays binary:
every hinted page pixel marks the model pixel it falls in (a 1-px hint
survives any downscale; where several fall in one pixel, the last in row
order wins). The model's output is scaled back up with a Lanczos filter.
"""

import numpy as np
from PIL import Image

DEFAULT_MAX_SIDE = 1024
# Peak process memory per megapixel of model input at the default widths
# (float32, CPU), from tfcolor.benchmarks.page_memory; see docs/deployment.md.
MEMORY_GB_PER_MEGAPIXEL = 1.4


def check_max_side(max_side):
  """Raises ValueError naming --max_side unless it is 0 (never scale) or >= 16."""
  if max_side < 0 or 0 < max_side < 16:
    raise ValueError(f"--max_side must be 0 (never scale) or >= 16, got {max_side}")


def scaled_size(height, width, max_side):
  """(height, width) with the longer side at most `max_side`, aspect kept.

  Unchanged when `max_side` <= 0 or the page already fits.
  """
  longer = max(height, width)
  if max_side <= 0 or longer <= max_side:
    return height, width
  scale = max_side / longer
  return max(1, round(height * scale)), max(1, round(width * scale))


def scale_lineart(lineart, height, width):
  """uint8 [H, W, 1] line art -> [height, width, 1], area-filtered."""
  image = Image.fromarray(lineart[..., 0]).resize((width, height), Image.Resampling.BOX)
  return np.asarray(image, np.uint8)[..., None]


def scale_hints(hints, height, width):
  """uint8 RGBA hints [H, W, 4] -> [height, width, 4]; exact colours, binary alpha."""
  page_height, page_width = hints.shape[:2]
  scaled = np.zeros((height, width, 4), np.uint8)
  rows, cols = np.nonzero(hints[..., 3] > 0)
  if rows.size:
    scaled_rows = rows * height // page_height
    scaled_cols = cols * width // page_width
    scaled[scaled_rows, scaled_cols, :3] = hints[rows, cols, :3]
    scaled[scaled_rows, scaled_cols, 3] = 255
  return scaled


def scale_image(image, height, width):
  """uint8 RGB [h, w, 3] -> [height, width, 3] with a Lanczos filter."""
  resized = Image.fromarray(image).resize((width, height), Image.Resampling.LANCZOS)
  return np.asarray(resized, np.uint8)


def colorize_page(colorizer, lineart, hints, max_side):
  """Colourises one page, at a bounded size if it is larger than `max_side`.

  Args:
    colorizer: has `colorize_batch(lineart [B, H, W, 1], hints [B, H, W, 4])`
      -> uint8 [B, H, W, 3] (the SavedModel or TFLite colorizer of
      `tfcolor.serving.colorize_files`).
    lineart: uint8 [H, W, 1]; hints: uint8 [H, W, 4] (alpha > 0 = hinted).
    max_side: longest side the model sees; <= 0 = never scale.

  Returns:
    (uint8 image [H, W, 3] at the page's size, whether it was scaled).
  """
  page_height, page_width = lineart.shape[:2]
  height, width = scaled_size(page_height, page_width, max_side)
  if (height, width) == (page_height, page_width):
    return colorizer.colorize_batch(lineart[None], hints[None])[0], False
  small = colorizer.colorize_batch(scale_lineart(lineart, height, width)[None],
                                   scale_hints(hints, height, width)[None])[0]
  return scale_image(small, page_height, page_width), True
