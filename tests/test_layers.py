"""Building blocks: reflection padding, instance norm, ResNet and CSA blocks."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfcolor.models import CSABlock, ReflectionPadding2D, ResnetBlock, instance_norm


def _round_trip(layer):
  return keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))


def test_reflection_padding_matches_numpy_reflect():
  images = np.random.default_rng(0).normal(size=(2, 5, 7, 3)).astype("float32")
  padded = ReflectionPadding2D(3)(images)
  expected = np.pad(images, [(0, 0), (3, 3), (3, 3), (0, 0)], mode="reflect")
  np.testing.assert_allclose(padded, expected)


def test_reflection_padding_unknown_size_and_round_trip():
  layer = _round_trip(ReflectionPadding2D(2, name="pad"))
  assert layer.padding == 2 and layer.name == "pad"
  traced = tf.function(layer).get_concrete_function(tf.TensorSpec([None, None, None, 1]))
  assert traced(tf.zeros((1, 4, 6, 1))).shape == (1, 8, 10, 1)
  assert layer.compute_output_shape((None, None, 6, 1)) == (None, None, 10, 1)


def test_instance_norm_normalises_each_channel_of_each_example():
  rng = np.random.default_rng(1)
  features = (rng.normal(size=(3, 8, 6, 4)) * [1, 5, 0.1, 3] + [2, -4, 9, 0]).astype("float32")
  normed = np.asarray(instance_norm(1e-5)(features))
  np.testing.assert_allclose(normed.mean(axis=(1, 2)), 0, atol=1e-4)
  np.testing.assert_allclose(normed.std(axis=(1, 2)), 1, atol=1e-2)


def _tiny_csa(filters=8):
  return CSABlock(filters, hint_filters=6, attention_filters=5, name="csa")


def test_csa_block_shapes_and_attention_range():
  block = _tiny_csa()
  x = tf.random.normal((2, 4, 6, 8))
  hint_feature = tf.random.normal((2, 8, 12, 512))
  out, attention = block(x, hint_feature, return_attention=True)
  assert out.shape == (2, 4, 6, 8) and attention.shape == (2, 4, 6, 1)
  assert float(tf.reduce_min(attention)) >= 0 and float(tf.reduce_max(attention)) <= 1
  np.testing.assert_allclose(block(x, hint_feature), out)


def test_csa_block_is_x_plus_gated_residual():
  block = _tiny_csa()
  x = tf.random.normal((1, 4, 4, 8))
  hint_feature = tf.random.normal((1, 8, 8, 512))
  out, attention = block(x, hint_feature, return_attention=True)
  branch = block.residual(x)
  np.testing.assert_allclose(out, x + branch * attention, rtol=1e-5, atol=1e-5)
  # The map is computed from concat(r, h): changing the hints changes it.
  _, other = block(x, hint_feature + 1.0, return_attention=True)
  assert float(tf.reduce_max(tf.abs(other - attention))) > 1e-6


def test_csa_block_layer_widths():
  block = _tiny_csa()
  block(tf.zeros((1, 2, 2, 8)), tf.zeros((1, 4, 4, 512)))
  kernel_shapes = {layer.name: tuple(layer.kernel.shape) for layer in block._layers
                   if hasattr(layer, "kernel")}
  assert kernel_shapes == {
      "residual_conv1": (3, 3, 8, 8), "residual_conv2": (3, 3, 8, 8),
      "hint_conv1": (3, 3, 512, 6), "hint_conv2": (3, 3, 6, 6), "hint_conv3": (3, 3, 6, 6),
      "attention_conv1": (3, 3, 14, 5), "attention_conv2": (3, 3, 5, 1)}
  assert block.hint_conv1.strides == (2, 2)


def test_resnet_block_is_csa_without_attention():
  csa = _tiny_csa()
  resnet = ResnetBlock(8, name="resnet")
  x = tf.random.normal((2, 4, 4, 8))
  csa(x, tf.zeros((2, 8, 8, 512)))
  resnet(x)
  for name in ("residual_conv1", "residual_norm1", "residual_conv2", "residual_norm2"):
    getattr(resnet, name).set_weights(getattr(csa, name).get_weights())
  np.testing.assert_allclose(resnet(x), x + csa.residual(x), rtol=1e-5, atol=1e-5)
  assert len(resnet.weights) == 8  # two convs (kernel, bias) and two norms (gamma, beta)


def test_blocks_reject_wrong_width():
  with pytest.raises(ValueError, match="filters=8"):
    ResnetBlock(8)(tf.zeros((1, 2, 2, 4)))


def test_blocks_serialisation_round_trip():
  csa = _round_trip(CSABlock(16, hint_filters=4, attention_filters=3, norm_epsilon=1e-3))
  assert (csa.filters, csa.hint_filters, csa.attention_filters, csa.norm_epsilon) == (
      16, 4, 3, 1e-3)
  resnet = _round_trip(ResnetBlock(12, norm_epsilon=1e-4))
  assert type(resnet) is ResnetBlock and (resnet.filters, resnet.norm_epsilon) == (12, 1e-4)


def test_csa_block_under_mixed_bfloat16(mixed_bfloat16):
  block = _tiny_csa()
  out, attention = block(tf.random.normal((1, 2, 2, 8)), tf.random.normal((1, 4, 4, 512)),
                         return_attention=True)
  assert out.dtype == tf.bfloat16 and attention.dtype == tf.bfloat16
  assert block.residual_conv1.kernel.dtype == "float32"


@pytest.fixture
def mixed_bfloat16():
  keras.mixed_precision.set_global_policy("mixed_bfloat16")
  yield
  keras.mixed_precision.set_global_policy("float32")
