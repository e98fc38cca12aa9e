"""Multi-scale PatchGAN: structure, output sizes, receptive field, pooling, saving."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfcolor.config import ModelConfig
from tfcolor.models import MultiScaleDiscriminator, PatchDiscriminator, build_discriminator

TINY = ModelConfig(discriminator_filters=(8, 8, 8, 8))


@pytest.fixture(scope="module")
def discriminator():
  return build_discriminator(TINY)


def _sizes(side):
  """pix2pixHD padding 2: n -> n // 2 + 1 (stride 2, three times), n + 1 (stride 1, twice)."""
  sizes = []
  for stride in (2, 2, 2, 1, 1):
    side = side // 2 + 1 if stride == 2 else side + 1
    sizes.append(side)
  return sizes


@pytest.mark.parametrize("height,width", [(32, 32), (48, 64)])
def test_outputs_per_scale_and_layer(discriminator, height, width):
  outputs = discriminator(tf.random.normal((2, height, width, 4)))
  assert len(outputs) == 3
  for scale, features in enumerate(outputs):
    assert len(features) == 5
    scaled_h, scaled_w = -(-height // 2 ** scale), -(-width // 2 ** scale)
    expected = [(2, h, w, c) for h, w, c in zip(_sizes(scaled_h), _sizes(scaled_w),
                                                 (8, 8, 8, 8, 1))]
    assert [tuple(f.shape) for f in features] == expected


def test_default_output_sizes_match_pix2pixhd():
  assert _sizes(256) == [129, 65, 33, 34, 35]


def test_parameter_count():
  default = build_discriminator(ModelConfig())
  conv = lambda in_channels, out_channels: 16 * in_channels * out_channels + out_channels
  one = (conv(4, 64) + conv(64, 128) + 2 * 128 + conv(128, 256) + 2 * 256
         + conv(256, 512) + 2 * 512 + conv(512, 1))
  assert default.count_params() == 3 * one == 3 * 2_767_553


def test_receptive_field_is_70(discriminator):
  # Instance norm statistics see the whole image, so trace the convs alone.
  patch = discriminator.discriminators[0]
  images = tf.random.normal((1, 128, 128, 4))
  with tf.GradientTape() as tape:
    tape.watch(images)
    logits = images
    for padding, conv in zip(patch.paddings, patch.convs):
      logits = conv(padding(logits))
    centre = logits[0, logits.shape[1] // 2, logits.shape[2] // 2, 0]
  reach = np.any(np.asarray(tape.gradient(centre, images))[0] != 0, axis=-1)
  rows, cols = np.nonzero(reach)
  assert rows.max() - rows.min() + 1 == 70 and cols.max() - cols.min() + 1 == 70


def test_downsampling_excludes_padding_from_the_average(discriminator):
  pool = discriminator.downsamples[0]
  np.testing.assert_array_equal(pool(tf.ones((1, 6, 6, 4))), np.ones((1, 3, 3, 4)))
  ramp = tf.reshape(tf.range(16, dtype=tf.float32), (1, 4, 4, 1))
  # Bottom-right window holds rows/cols 2..3 plus padding: mean of 4 real pixels.
  assert float(pool(ramp)[0, 1, 1, 0]) == pytest.approx((10 + 11 + 14 + 15) / 4)


def test_discriminators_have_identical_structure_and_own_weights(discriminator):
  shapes = [[tuple(w.shape) for w in d.weights] for d in discriminator.discriminators]
  assert shapes[0] == shapes[1] == shapes[2]
  first, second = discriminator.discriminators[:2]
  assert first.weights[0] is not second.weights[0]


def test_save_load_and_config_round_trip(discriminator, tmp_path):
  path = str(tmp_path / "discriminator.keras")
  discriminator.save(path)
  loaded = keras.models.load_model(path)
  assert isinstance(loaded, MultiScaleDiscriminator)
  images = tf.random.normal((1, 32, 48, 4))
  for want, got in zip(tf.nest.flatten(discriminator(images)), tf.nest.flatten(loaded(images))):
    np.testing.assert_allclose(got, want, atol=1e-6)
  patch = PatchDiscriminator.from_config(PatchDiscriminator((4, 4, 4, 4)).get_config())
  assert patch.filters == (4, 4, 4, 4)


def test_logits_are_float32_under_mixed_bfloat16():
  keras.mixed_precision.set_global_policy("mixed_bfloat16")
  try:
    mixed = build_discriminator(TINY)
  finally:
    keras.mixed_precision.set_global_policy("float32")
  outputs = mixed(tf.random.normal((1, 32, 32, 4)))
  assert all(features[-1].dtype == tf.float32 for features in outputs)
  assert outputs[0][0].dtype == tf.bfloat16
