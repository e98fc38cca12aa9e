"""tfcolor.serving.page_scaling: bounded model size, hints that survive, the page's size back."""

import numpy as np
import pytest

from tfcolor.serving import page_scaling


@pytest.mark.parametrize("size, max_side, expected", [
    ((4000, 3000), 1024, (1024, 768)),
    ((3000, 4000), 1024, (768, 1024)),
    ((1000, 700), 1024, (1000, 700)),  # fits
    ((4000, 3000), 0, (4000, 3000)),  # never scale
    ((5000, 3), 100, (100, 1)),  # never below one pixel
])
def test_scaled_size(size, max_side, expected):
  assert page_scaling.scaled_size(*size, max_side) == expected


def test_one_pixel_hints_survive_a_downscale_with_their_colours():
  hints = np.zeros((400, 300, 4), np.uint8)
  hints[0, 0] = (255, 0, 0, 255)
  hints[399, 299] = (0, 255, 0, 1)  # any alpha > 0 is a hint
  hints[201, 150] = (10, 20, 30, 200)
  scaled = page_scaling.scale_hints(hints, 100, 75)
  assert scaled.shape == (100, 75, 4)
  assert set(np.unique(scaled[..., 3])) == {0, 255}  # alpha stays binary
  hinted = {tuple(index): tuple(scaled[tuple(index)][:3])
            for index in np.argwhere(scaled[..., 3] > 0)}
  assert hinted == {(0, 0): (255, 0, 0), (99, 74): (0, 255, 0), (50, 37): (10, 20, 30)}


class _RecordingColorizer:
  """The colorizer interface: paints each pixel with its line art value; records shapes."""

  def __init__(self):
    self.shapes = []

  def colorize_batch(self, lineart, hints):
    self.shapes.append((lineart.shape, hints.shape))
    return np.repeat(lineart, 3, axis=-1)


def test_colorize_page_runs_large_pages_small_and_returns_the_page_size():
  lineart = np.full((300, 200, 1), 255, np.uint8)
  lineart[:, :100] = 0  # left half black
  hints = np.zeros((300, 200, 4), np.uint8)
  colorizer = _RecordingColorizer()
  image, was_scaled = page_scaling.colorize_page(colorizer, lineart, hints, 100)
  assert was_scaled and image.shape == (300, 200, 3) and image.dtype == np.uint8
  assert colorizer.shapes == [((1, 100, 67, 1), (1, 100, 67, 4))]
  assert image[:, :90].max() < 10 and image[:, 110:].min() > 245  # back in place
  image, was_scaled = page_scaling.colorize_page(colorizer, lineart, hints, 300)
  assert not was_scaled
  np.testing.assert_array_equal(image, np.repeat(lineart, 3, axis=-1))
  assert colorizer.shapes[-1] == ((1, 300, 200, 1), (1, 300, 200, 4))
