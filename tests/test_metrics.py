"""PSNR, SSIM and hint fidelity of `tfcolor.evaluation.metrics` on hand-checked cases."""

import numpy as np
import pytest
import tensorflow as tf

from tfcolor.evaluation import metrics


def _to_model(colour):
  """0-255 RGB -> the model's [-1, 1] hint values."""
  return np.asarray(colour, np.float64) / 127.5 - 1.0


def test_psnr_of_a_known_mse_and_the_cap_for_identical_images():
  rng = np.random.default_rng(0)
  reference = rng.integers(10, 240, (2, 16, 16, 3)).astype(np.uint8)
  shifted = (reference.astype(np.int32) + 5).astype(np.uint8)  # MSE 25 everywhere
  values = metrics.psnr(np.stack([shifted[0], reference[1]]), reference)
  assert values[0] == pytest.approx(10 * np.log10(255.0**2 / 25.0), abs=1e-9)
  assert values[1] == metrics.PSNR_CAP_DB == 100.0  # identical: capped, not inf
  one_level = reference.copy()
  one_level[0, 0, 0, 0] += 1  # the smallest possible error stays below the cap here
  assert metrics.psnr(one_level, reference)[0] < metrics.PSNR_CAP_DB


def test_psnr_rejects_float_or_mismatched_images():
  image = np.zeros((1, 16, 16, 3), np.uint8)
  with pytest.raises(ValueError, match="uint8"):
    metrics.psnr(image.astype(np.float32), image)
  with pytest.raises(ValueError, match="reference"):
    metrics.psnr(image, np.zeros((1, 16, 8, 3), np.uint8))


def test_ssim_is_one_for_identical_images_and_matches_tf_image_ssim():
  rng = np.random.default_rng(1)
  images = rng.integers(0, 256, (3, 24, 20, 3)).astype(np.uint8)
  noisy = np.clip(images + rng.normal(0, 20, images.shape), 0, 255).astype(np.uint8)
  np.testing.assert_allclose(metrics.ssim(images, images), 1.0, atol=1e-6)
  expected = tf.image.ssim(tf.constant(noisy, tf.float32), tf.constant(images, tf.float32),
                           max_val=255.0).numpy()
  values = metrics.ssim(noisy, images)
  np.testing.assert_allclose(values, expected, rtol=1e-6)
  assert values.shape == (3,) and np.all(values < 0.99)


def test_ssim_of_flat_images_follows_the_luminance_formula_with_max_255():
  # Flat images have no variance: SSIM is (2ab + C1) / (a^2 + b^2 + C1), up to
  # tf.image.ssim's float32 arithmetic (its variance terms cancel to ~2e-4).
  a, b = 2.0, 6.0  # dark, so C1 matters: 0.656 with max_val 255, 0.600 with 1
  c1 = (0.01 * 255.0)**2
  first = np.full((1, 16, 16, 3), a, np.uint8)
  second = np.full((1, 16, 16, 3), b, np.uint8)
  assert metrics.ssim(first, second)[0] == pytest.approx(
      (2 * a * b + c1) / (a * a + b * b + c1), rel=5e-4)
  with pytest.raises(ValueError, match="11 x 11"):
    metrics.ssim(first[:, :8], second[:, :8])


def _two_region_example():
  """4x4, a diagonal line; hints in both triangles and one on the line.

  Line pixels (r == c) are black; the paper above the diagonal (6 pixels) and
  below it (6 pixels) are two regions under 4-connectivity (one under 8).
  """
  lineart = np.ones((1, 4, 4, 1))
  for i in range(4):
    lineart[0, i, i, 0] = -1.0
  image = np.zeros((1, 4, 4, 3), np.uint8)
  upper = np.triu(np.ones((4, 4), bool), 1)
  lower = np.tril(np.ones((4, 4), bool), -1)
  image[0][upper] = (100, 100, 100)
  image[0][lower] = (0, 0, 0)
  image[0][np.eye(4, dtype=bool)] = (255, 255, 255)
  hints = np.zeros((1, 4, 4, 4))
  hints[0, 0, 2] = [*_to_model((130, 100, 100)), 1]  # upper: 30 from the output
  hints[0, 1, 3] = [*_to_model((100, 140, 100)), 1]  # upper: 40
  hints[0, 2, 0] = [*_to_model((30, 40, 0)), 1]      # lower: 50
  hints[0, 1, 1] = [*_to_model((255, 255, 255)), 1]  # on the line: 0
  return image, hints, lineart


def test_hint_errors_on_two_regions_by_hand():
  image, hints, lineart = _two_region_example()
  # Pixels: (30 + 40 + 50 + 0) / 4.
  assert metrics.hint_pixel_error(image, hints)[0] == pytest.approx(30.0)
  # Regions: the upper one's colour is the mean hint (115, 120, 100), 25 from
  # each of its 6 pixels; the lower one's is (30, 40, 0), 50 from each of its
  # 6. The hint on the line belongs to no region.
  assert metrics.hint_region_error(image, hints, lineart)[0] == pytest.approx(
      (6 * 25.0 + 6 * 50.0) / 12)


def test_region_error_uses_the_paper_threshold_and_ignores_unhinted_regions():
  image, hints, lineart = _two_region_example()
  # No hint below the diagonal: only the upper region counts.
  hints[0, 2, 0] = 0
  assert metrics.hint_region_error(image, hints, lineart)[0] == pytest.approx(25.0)
  # Grey level 128 is paper, 127 is line (default threshold 128): a line at
  # 127 still separates the regions, at 128 the whole image is one region.
  hints[0, 1, 1] = 0
  for grey, expected in ((127, 25.0), (128, None)):
    greyed = lineart.copy()
    greyed[0, np.eye(4, dtype=bool)] = grey / 127.5 - 1.0
    value = metrics.hint_region_error(image, hints, greyed)[0]
    if expected is not None:
      assert value == pytest.approx(expected)
    else:  # one region of all 16 pixels, coloured (115, 120, 100)
      colour = np.array([115.0, 120.0, 100.0])
      distances = np.linalg.norm(image[0].reshape(-1, 3) - colour, axis=-1)
      assert value == pytest.approx(distances.mean())


def test_examples_without_usable_hints_are_nan():
  image, hints, lineart = _two_region_example()
  no_hints = np.zeros_like(hints)
  line_only = np.zeros_like(hints)
  line_only[0, 1, 1] = hints[0, 1, 1]
  images = np.concatenate([image, image])
  pixel = metrics.hint_pixel_error(images, np.concatenate([no_hints, line_only]))
  region = metrics.hint_region_error(images, np.concatenate([no_hints, line_only]),
                                     np.concatenate([lineart, lineart]))
  assert np.isnan(pixel[0]) and pixel[1] == pytest.approx(0.0)
  assert np.isnan(region).all()  # the only hint lies on a line
