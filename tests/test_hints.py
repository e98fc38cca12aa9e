"""Hint sampling (tfcolor.data.hints): the draws' statistics and the painted map."""

import numpy as np
import pytest
import tensorflow as tf

from tfcolor.config import DataConfig
from tfcolor.data import hints

NUM_DRAWS = 4000


def _draws(height, width, num_draws=NUM_DRAWS, **kwargs):
  """num_draws independent HintPatches (numpy), one per seed, drawn in a tf.data map.

  kwargs are `HintSampling` fields.
  """
  sampling = hints.HintSampling(**kwargs)
  seeds = tf.data.Dataset.range(num_draws).map(
      lambda i: tf.stack([i, tf.constant(17, tf.int64)]))
  patches = seeds.map(lambda seed: hints.sample_hint_patches(
      height, width, seed, sampling)._asdict())
  batch = next(iter(patches.batch(num_draws)))
  return {name: value.numpy() for name, value in batch.items()}


@pytest.fixture(scope="module")
def draws():
  return _draws(64, 48)


def test_count_is_geometric_from_zero_with_p(draws):
  count = draws["count"]
  p = 0.125
  p_zero_sigma = np.sqrt(p * (1 - p) / NUM_DRAWS)
  assert abs(np.mean(count == 0) - p) < 4 * p_zero_sigma
  mean_sigma = np.sqrt(1 - p) / p / np.sqrt(NUM_DRAWS)  # std of a geometric count
  assert abs(count.mean() - (1 - p) / p) < 4 * mean_sigma
  # P(N = k) = p (1 - p)^k: check the first few bins too.
  for k in range(1, 4):
    expected = p * (1 - p) ** k
    assert abs(np.mean(count == k) - expected) < 4 * np.sqrt(expected / NUM_DRAWS)
  assert count.max() <= hints.MAX_HINT_PATCHES


def test_count_is_capped_and_p_one_gives_no_hints():
  assert _draws(16, 16, 200, geometric_p=1e-6)["count"].max() == hints.MAX_HINT_PATCHES
  assert _draws(16, 16, 200, geometric_p=1.0)["count"].max() == 0


def test_a_dense_fraction_mixes_two_geometric_counts():
  """With dense_fraction f, P(N = 0) = f p_dense + (1 - f) p_sparse, and the
  sparse-only settings of the same seeds give the paper's draw exactly."""
  mixed = _draws(64, 48, geometric_p=0.5, dense_geometric_p=0.02, dense_fraction=0.25)
  expected_zero = 0.25 * 0.02 + 0.75 * 0.5
  sigma = np.sqrt(expected_zero * (1 - expected_zero) / NUM_DRAWS)
  assert abs(np.mean(mixed["count"] == 0) - expected_zero) < 4 * sigma
  # About a quarter of the draws are dense: far more than 10 patches, which a
  # sparse draw at p = 0.5 gives with probability 0.5**11 ~ 5e-4.
  assert abs(np.mean(mixed["count"] > 10) - 0.25 * 0.98 ** 11) < 0.03
  sparse = _draws(64, 48, geometric_p=0.5, dense_geometric_p=0.02, dense_fraction=0.0)
  plain = _draws(64, 48, geometric_p=0.5)
  for name in plain:  # the mix leaves the other draws as they were
    np.testing.assert_array_equal(sparse[name], plain[name])
  np.testing.assert_array_equal(mixed["sides"], plain["sides"])
  # The examples that drew sparse (about 3 in 4) keep their count.
  same_count = np.mean(mixed["count"] == plain["count"])
  assert 0.72 < same_count < 0.8, same_count


def test_hint_sampling_reads_the_data_config():
  config = DataConfig(hint_geometric_p=0.3, hint_max_side=5, hint_dense_geometric_p=0.05,
                      hint_dense_fraction=0.5)
  sampling = hints.HintSampling.from_config(config)
  assert sampling == hints.HintSampling(0.3, 5, 0.05, 0.5)
  assert hints.HintSampling.from_config(DataConfig()) == hints.HintSampling()


def test_sides_are_uniform_on_1_to_max_side(draws):
  used = np.arange(hints.MAX_HINT_PATCHES)[None, :] < draws["count"][:, None]
  sides = draws["sides"][used]
  assert sides.min() >= 1 and sides.max() <= 8
  observed = np.bincount(sides, minlength=9)[1:]
  expected = len(sides) / 8
  chi_square = ((observed - expected) ** 2 / expected).sum()
  assert chi_square < 30, observed  # 7 degrees of freedom: P(chi2 > 30) ~ 1e-4


def test_corners_are_clipped_normals_around_the_centre(draws):
  sides = draws["sides"].ravel()
  for name, size in (("tops", 64), ("lefts", 48)):
    corner = draws[name].ravel()
    assert corner.min() >= 0 and (corner <= size - sides).all(), name
    room = size - sides + 1
    standard = (corner - room / 2) / (room / 4)
    # A normal clipped to about +-2 sigma: mean ~0, std a little under 1.
    assert abs(standard.mean()) < 0.05, name
    assert 0.85 < standard.std() < 1.0, name
    assert np.mean(corner == 0) > 0.01  # clipping happens at about 2 sigma


def test_sides_are_clamped_to_small_images():
  small = _draws(5, 3, 300)
  assert small["sides"].max() <= 3
  assert (small["tops"] <= 5 - small["sides"]).all()
  assert (small["lefts"] <= 3 - small["sides"]).all()
  assert small["tops"].min() >= 0 and small["lefts"].min() >= 0


def _reference_hints(image, patches):
  """Numpy painter: patches in order, later ones overwrite, colour = patch mean."""
  height, width = image.shape[:2]
  out = np.zeros((height, width, 4), np.float64)
  for n in range(int(patches.count)):
    side, top, left = (int(patches.sides[n]), int(patches.tops[n]),
                       int(patches.lefts[n]))
    window = image[top:top + side, left:left + side].astype(np.float64)
    assert window.shape[:2] == (side, side)
    out[top:top + side, left:left + side, :3] = window.mean(axis=(0, 1))
    out[top:top + side, left:left + side, 3] = 1.0
  return out


@pytest.mark.large
def test_hints_match_a_numpy_reference_with_the_same_draws():
  rng = np.random.default_rng(0)
  overlaps = 0
  for index in range(40):
    image = rng.uniform(-1, 1, (20, 28, 3)).astype(np.float32)
    seed = tf.constant([index, 5], tf.int64)
    got = hints.sample_hints(image, seed).numpy()
    patches = hints.sample_hint_patches(20, 28, seed)
    want = _reference_hints(image, patches)
    np.testing.assert_allclose(got, want, atol=1e-5)
    # Mask marks exactly the hinted pixels; unhinted RGB is 0.
    assert set(np.unique(got[..., 3])) <= {0.0, 1.0}
    assert (got[got[..., 3] == 0][:, :3] == 0).all()
    covered = sum(int(patches.sides[n]) ** 2 for n in range(int(patches.count)))
    overlaps += covered > got[..., 3].sum()
  assert overlaps > 5  # the comparison covered overlapping patches


def test_one_patch_takes_the_mean_colour_of_the_ground_truth():
  image = np.zeros((16, 16, 3), np.float32)
  image[:, :8] = [1.0, -1.0, 0.0]
  image[:, 8:] = [-1.0, 0.5, 0.25]
  patches = hints.HintPatches(count=tf.constant(1), sides=tf.constant([4, 8]),
                              tops=tf.constant([3, 0]), lefts=tf.constant([6, 0]))
  out = hints.hints_from_patches(image, patches).numpy()
  # Half of the 4x4 patch lies on each colour.
  np.testing.assert_allclose(out[3:7, 6:10, :3], np.broadcast_to([0.0, -0.25, 0.125],
                                                                 (4, 4, 3)), atol=1e-6)
  assert out[..., 3].sum() == 16 and out[3:7, 6:10, 3].all()


def test_later_patches_overwrite_earlier_ones():
  image = np.zeros((8, 8, 3), np.float32)
  image[:4] = 1.0
  image[4:] = -1.0
  patches = hints.HintPatches(count=tf.constant(2), sides=tf.constant([4, 2]),
                              tops=tf.constant([0, 3]), lefts=tf.constant([0, 2]))
  out = hints.hints_from_patches(image, patches).numpy()
  np.testing.assert_allclose(out[3, 2:4, 0], [0.0, 0.0])  # second patch: rows 3-4
  np.testing.assert_allclose(out[0:3, 0:4, 0], 1.0)
  np.testing.assert_allclose(out[4, 2:4, 0], 0.0)
  assert out[..., 3].sum() == 16 + 4 - 2


def test_batched_painting_equals_per_image():
  rng = np.random.default_rng(1)
  images = rng.uniform(-1, 1, (3, 12, 10, 3)).astype(np.float32)
  per_image = [hints.sample_hint_patches(12, 10, tf.constant([i, 9])) for i in range(3)]
  batched = hints.HintPatches(*(tf.stack(field) for field in zip(*per_image)))
  together = hints.hints_from_patches(images, batched).numpy()
  for i in range(3):
    np.testing.assert_array_equal(
        together[i], hints.hints_from_patches(images[i], per_image[i]).numpy())


def test_same_seed_same_hints_and_static_shape():
  image = tf.random.stateless_uniform([32, 24, 3], [1, 2], -1.0, 1.0)
  first = hints.sample_hints(image, tf.constant([3, 4]))
  assert first.shape == (32, 24, 4)
  np.testing.assert_array_equal(first, hints.sample_hints(image, tf.constant([3, 4])))
  others = [hints.sample_hints(image, tf.constant([s, 4])).numpy() for s in range(5, 9)]
  assert any(not np.array_equal(first, other) for other in others)
