"""Image grid helpers: value mapping, hint rendering, tiling and atomic saving."""

import numpy as np
import pytest
from PIL import Image

from tfcolor import visualize


def test_to_uint8_maps_model_range_and_expands_gray():
  gray = np.array([[[-1.0], [0.0], [1.0]]], np.float32)
  out = visualize.to_uint8(gray)
  assert out.shape == (1, 3, 3) and out.dtype == np.uint8
  np.testing.assert_array_equal(out[0, :, 0], [0, 128, 255])
  assert (visualize.to_uint8(np.full((2, 2, 3), 5.0)) == 255).all()  # clipped


def test_hints_show_colour_only_where_the_mask_is_set():
  hints = np.zeros((8, 8, 4), np.float32)
  hints[2:4, 5:7] = [1.0, -1.0, -1.0, 1.0]
  picture = visualize.hints_to_uint8(hints)
  np.testing.assert_array_equal(picture[2:4, 5:7].reshape(-1, 3), [[255, 0, 0]] * 4)
  unhinted = np.delete(picture.reshape(-1, 3), [2 * 8 + 5, 2 * 8 + 6, 3 * 8 + 5, 3 * 8 + 6], 0)
  assert set(np.unique(unhinted)) <= set(visualize._CHECKER)


def test_grid_places_tiles_and_rejects_mismatched_sizes(tmp_path):
  red = np.zeros((4, 6, 3), np.uint8)
  red[..., 0] = 255
  blue = np.zeros((4, 6, 3), np.uint8)
  blue[..., 2] = 255
  grid = visualize.image_grid([[red, blue]], padding=1)
  assert grid.shape == (1 + 4 + 1, 1 + 2 * (6 + 1), 3)
  np.testing.assert_array_equal(grid[1, 1], [255, 0, 0])
  np.testing.assert_array_equal(grid[1, 8], [0, 0, 255])
  with pytest.raises(ValueError, match=r"tile \(0, 1\)"):
    visualize.image_grid([[red, np.zeros((5, 6, 3), np.uint8)]])
  path = tmp_path / "grid.png"
  visualize.save_png(str(path), grid)
  np.testing.assert_array_equal(np.asarray(Image.open(path)), grid)
  assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]  # no temporary left

