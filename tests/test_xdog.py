"""XDoG line art: contract of the extractor interface, lines where the edges are."""

import cv2
import numpy as np
import pytest

from data_tools.extractors import configs, create_extractor
from data_tools.extractors.xdog import XDoGExtractor


def _disc_image(size=96, radius=28, colour=(220, 60, 60), background=(250, 250, 250)):
  """A flat disc without an outline: its only edge is the colour boundary."""
  image = np.empty((size, size, 3), np.uint8)
  image[...] = background
  cv2.circle(image, (size // 2, size // 2), radius, colour, -1, cv2.LINE_AA)
  return image


def test_output_is_gray_uint8_same_size():
  image = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)
  lineart = create_extractor("xdog").extract(image)
  assert lineart.shape == (37, 53) and lineart.dtype == np.uint8
  assert lineart.min() < 128 and lineart.max() == 255


@pytest.mark.parametrize("colour", [(255, 255, 255), (120, 200, 90)])
def test_flat_page_is_white_up_to_the_border(colour):
  image = np.empty((40, 30, 3), np.uint8)
  image[...] = colour
  np.testing.assert_array_equal(XDoGExtractor().extract(image), 255)


def test_dark_pixels_lie_on_the_edge_of_a_shape():
  size, radius = 96, 28
  lineart = XDoGExtractor().extract(_disc_image(size, radius))
  ys, xs = np.mgrid[0:size, 0:size]
  distance = np.abs(np.hypot(ys - size // 2, xs - size // 2) - radius)
  dark = lineart < 128
  assert dark.sum() > 0.5 * 2 * np.pi * radius  # A line, not a few dots...
  assert (distance[dark] <= 4).all()  # ...and only on the boundary.
  # The whole boundary is drawn: every angle has a dark pixel near it.
  angles = np.linspace(0, 2 * np.pi, 90, endpoint=False)
  for angle in angles:
    y = int(round(size // 2 + radius * np.sin(angle)))
    x = int(round(size // 2 + radius * np.cos(angle)))
    assert dark[y - 2:y + 3, x - 2:x + 3].any(), angle
  assert (lineart[distance > 6] == 255).all()  # Paper stays white.


def test_drawn_outline_becomes_a_dark_line():
  image = np.full((64, 64, 3), 255, np.uint8)
  cv2.line(image, (8, 32), (56, 32), (20, 20, 20), 2, cv2.LINE_AA)
  lineart = XDoGExtractor().extract(image)
  assert (lineart[31:33, 10:54] < 64).all()
  assert (lineart[:28] == 255).all() and (lineart[37:] == 255).all()


def test_batch_equals_single_images_and_settings_are_reported():
  extractor = create_extractor("xdog", configs.XDoGConfig(xdog_sigma=0.8))
  images = [_disc_image(48, 15), _disc_image(40, 10, colour=(40, 90, 200))]
  for batch_result, image in zip(extractor.extract_batch(images), images):
    np.testing.assert_array_equal(batch_result, extractor.extract(image))
  assert extractor.settings()["sigma"] == 0.8
  assert extractor.name == "xdog"


def test_bad_settings_and_inputs_are_rejected():
  with pytest.raises(ValueError, match="xdog_k"):
    XDoGExtractor(configs.XDoGConfig(xdog_k=1.0))
  with pytest.raises(ValueError, match="xdog_sigma"):
    XDoGExtractor(configs.XDoGConfig(xdog_sigma=0.0))
  with pytest.raises(ValueError, match="uint8 RGB"):
    XDoGExtractor().extract(np.zeros((8, 8), np.uint8))
