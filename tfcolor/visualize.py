"""Image grids for people to look at: pipeline samples, training progress, results.

Inputs use the model's value ranges (DESIGN.md): images and line art in [-1, 1],
hints as 4 channels (RGB in [-1, 1] where the mask is 1, then the mask).
"""

import io

import numpy as np
from PIL import Image, ImageDraw

from tfcolor import io_utils

_CHECKER = (200, 215)  # Grey levels of the checkerboard behind unhinted pixels.


def to_uint8(image):
  """[-1, 1] float (H, W, C) with C in {1, 3} -> uint8 RGB (H, W, 3)."""
  image = np.asarray(image, dtype=np.float32)
  if image.ndim == 2:
    image = image[..., None]
  if image.shape[-1] == 1:
    image = np.repeat(image, 3, axis=-1)
  return np.clip(np.round((image + 1.0) * 127.5), 0, 255).astype(np.uint8)


def hints_to_uint8(hints, checker_size=4):
  """4-channel hints -> uint8 RGB: hint colours over a grey checkerboard."""
  hints = np.asarray(hints, dtype=np.float32)
  height, width = hints.shape[:2]
  rows, cols = np.indices((height, width)) // max(1, checker_size)
  checker = np.where((rows + cols) % 2 == 0, _CHECKER[0], _CHECKER[1]).astype(np.uint8)
  canvas = np.repeat(checker[..., None], 3, axis=-1)
  mask = hints[..., 3:4] > 0.5
  return np.where(mask, to_uint8(hints[..., :3]), canvas)


def image_grid(rows, column_titles=None, padding=2, title_height=14):
  """Tiles rows of equally sized uint8 RGB images into one uint8 image.

  Args:
    rows: list of rows, each a list of uint8 (H, W, 3) arrays of the same size.
    column_titles: optional list of strings drawn above the columns.
    padding: white pixels between tiles.
    title_height: pixels reserved for the titles.
  """
  if not rows or not rows[0]:
    raise ValueError("image_grid needs at least one row with one image")
  tile_h, tile_w = rows[0][0].shape[:2]
  num_cols = max(len(row) for row in rows)
  top = title_height if column_titles else 0
  grid = np.full((top + len(rows) * (tile_h + padding) + padding,
                  num_cols * (tile_w + padding) + padding, 3), 255, np.uint8)
  for r, row in enumerate(rows):
    for c, tile in enumerate(row):
      if tile.shape[:2] != (tile_h, tile_w):
        raise ValueError(f"image_grid: tile ({r}, {c}) has shape {tile.shape[:2]}, "
                         f"expected {(tile_h, tile_w)}")
      y = top + padding + r * (tile_h + padding)
      x = padding + c * (tile_w + padding)
      grid[y:y + tile_h, x:x + tile_w] = tile
  if column_titles:
    picture = Image.fromarray(grid)
    draw = ImageDraw.Draw(picture)
    for c, title in enumerate(column_titles):
      draw.text((padding + c * (tile_w + padding) + 2, 1), str(title), fill=(0, 0, 0))
    grid = np.asarray(picture)
  return grid


def encode_png(image):
  """uint8 array -> PNG bytes."""
  buffer = io.BytesIO()
  Image.fromarray(np.asarray(image, np.uint8)).save(buffer, format="PNG")
  return buffer.getvalue()


def save_png(path, image):
  """Writes a uint8 image as PNG, atomically."""
  io_utils.atomic_write_bytes(path, encode_png(image))


SAMPLE_GRID_COLUMNS = ("line art", "hints", "output", "ground truth")


def sample_grid(lineart, hints, output, image, min_tile_size=128):
  """uint8 grid, one row per example: line art | hints | output | ground truth.

  Arguments are batches (B, H, W, C) in the model's value ranges. Tiles
  smaller than `min_tile_size` are enlarged by an integer factor (nearest
  neighbour, so pixels stay sharp) to be easy to look at.
  """
  scale = max(1, -(-min_tile_size // max(1, min(image.shape[1:3]))))

  def enlarge(tile):
    return np.repeat(np.repeat(tile, scale, axis=0), scale, axis=1)

  rows = []
  for index in range(len(image)):
    rows.append([enlarge(to_uint8(lineart[index])),
                 enlarge(hints_to_uint8(hints[index])),
                 enlarge(to_uint8(output[index])),
                 enlarge(to_uint8(image[index]))])
  return image_grid(rows, column_titles=SAMPLE_GRID_COLUMNS)
