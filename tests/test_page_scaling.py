"""page_scaling: large pages go through the model scaled down, hints survive the scaling."""

import numpy as np

from tfcolor.serving import page_scaling


def test_scaled_size_fits_the_longest_side():
  assert page_scaling.scaled_size(3000, 2000, 1024) == (1024, 683)
  assert page_scaling.scaled_size(2000, 3000, 1024) == (683, 1024)
  assert page_scaling.scaled_size(800, 600, 1024) == (800, 600)
  assert page_scaling.scaled_size(3000, 2000, 0) == (3000, 2000)
  assert page_scaling.scaled_size(5000, 2, 100) == (100, 1)


def test_scaled_hints_keep_colours_and_binary_alpha():
  hints = np.zeros((64, 64, 4), np.uint8)
  hints[10:30, 10:30] = (201, 33, 77, 255)
  hints[50, 3] = (12, 250, 130, 40)  # One faint pixel: still a hint after 4x down.
  small = page_scaling.scale_hints(hints, (16, 16))
  assert set(np.unique(small[..., 3])) == {0, 255}
  assert tuple(small[5, 5]) == (201, 33, 77, 255)
  assert tuple(small[12, 0]) == (12, 250, 130, 255)
  colours = {tuple(p) for p in small[small[..., 3] > 0][:, :3]}
  assert colours == {(201, 33, 77), (12, 250, 130)}
  assert (small[..., 3] > 0).sum() == 6 * 6 + 1  # rows and columns 10..29 touch 6 cells


class _Recorder:
  def __init__(self):
    self.shapes = []

  def colorize_batch(self, lineart, hints):
    self.shapes.append((lineart.shape, hints.shape))
    return np.repeat(lineart, 3, axis=-1)  # gray "colouring": the line art itself


def test_colorize_page_scales_down_for_the_model_and_back():
  recorder = _Recorder()
  lineart = np.full((300, 200, 1), 255, np.uint8)
  lineart[:, 100:] = 0
  image, scaled = page_scaling.colorize_page(recorder, lineart,
                                             np.zeros((300, 200, 4), np.uint8), 150)
  assert scaled and image.shape == (300, 200, 3) and image.dtype == np.uint8
  assert recorder.shapes == [((1, 150, 100, 1), (1, 150, 100, 4))]
  assert image[150, 20, 0] == 255 and image[150, 180, 0] == 0
  image, scaled = page_scaling.colorize_page(recorder, lineart[:100],
                                             np.zeros((100, 200, 4), np.uint8), 1024)
  assert not scaled and recorder.shapes[-1][0] == (1, 100, 200, 1)
  np.testing.assert_array_equal(image[..., 0], lineart[:100, :, 0])
