"""The shared frozen VGG19: hint feature, perceptual features, weights, no gradients."""

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

from tfcolor.models import (HintEncoder, PerceptualFeatures, build_generator,
                            build_perceptual, build_vgg19)
from model_testlib import TINY_MODEL as TINY



@pytest.fixture(scope="module")
def vgg():
  return build_vgg19("none")


def _submodel(vgg, layer_names):
  return keras.Model(vgg.input, [vgg.get_layer(name).output for name in layer_names])


def _random_hints(rng, shape=(2, 32, 48)):
  mask = (rng.uniform(size=shape + (1,)) < 0.3).astype("float32")
  rgb = rng.uniform(-1, 1, size=shape + (3,)).astype("float32") * mask
  return np.concatenate([rgb, mask], axis=-1)


def _expected_hint_feature(vgg, hints):
  """Independent: [0, 255] RGB, ImageNet mean where unhinted, caffe preprocessing."""
  rgb = (hints[..., :3] + 1) * 127.5
  rgb = np.where(hints[..., 3:] > 0.5, rgb, [123.68, 116.779, 103.939]).astype("float32")
  vgg_input = rgb[..., ::-1] - np.array([103.939, 116.779, 123.68], "float32")
  conv3 = _submodel(vgg, ["block4_conv3"])(vgg_input)
  conv4 = vgg.get_layer("block4_conv4")
  return tf.nn.conv2d(conv3, conv4.kernel, 1, "SAME") + conv4.bias


def test_hint_feature_is_block4_conv4_before_relu(vgg):
  hints = _random_hints(np.random.default_rng(0))
  feature = HintEncoder(vgg)(hints)
  assert feature.shape == (2, 4, 6, 512)
  np.testing.assert_allclose(feature, _expected_hint_feature(vgg, hints),
                             rtol=1e-4, atol=1e-3 * float(tf.reduce_max(tf.abs(feature))))
  assert float(tf.reduce_min(feature)) < 0  # no ReLU applied


def test_unhinted_pixels_enter_vgg_as_zero(vgg):
  rng = np.random.default_rng(1)
  hints = np.concatenate([rng.uniform(-1, 1, size=(1, 16, 16, 3)),
                          np.zeros((1, 16, 16, 1))], axis=-1).astype("float32")
  conv3 = _submodel(vgg, ["block4_conv3"])(np.zeros((1, 16, 16, 3), "float32"))
  conv4 = vgg.get_layer("block4_conv4")
  zero_input_feature = tf.nn.conv2d(conv3, conv4.kernel, 1, "SAME") + conv4.bias
  np.testing.assert_array_equal(HintEncoder(vgg)(hints), zero_input_feature)


def test_perceptual_features_are_relu_k_1(vgg):
  images = np.random.default_rng(2).uniform(-1, 1, size=(2, 32, 32, 3)).astype("float32")
  features = build_perceptual(vgg)(images)
  names = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"]
  expected = _submodel(vgg, names)(
      keras.applications.vgg19.preprocess_input((images + 1) * 127.5))
  assert [tuple(f.shape) for f in features] == [
      (2, 32, 32, 64), (2, 16, 16, 128), (2, 8, 8, 256), (2, 4, 4, 512), (2, 2, 2, 512)]
  for got, want in zip(features, expected):
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(tf.reduce_max(want)))
    assert float(tf.reduce_min(got)) >= 0


@pytest.mark.large
def test_no_gradient_reaches_vgg_weights(vgg):
  generator = build_generator(TINY, vgg)
  perceptual = build_perceptual(generator.vgg)
  assert generator.vgg is vgg and not vgg.trainable_weights
  generator.trainable = True  # as a trainer might; the VGG must stay frozen
  assert not vgg.trainable_weights
  rng = np.random.default_rng(3)
  inputs = {"lineart": rng.uniform(-1, 1, (1, 32, 32, 1)).astype("float32"),
            "hints": _random_hints(rng, (1, 32, 32))}
  target = rng.uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
  vgg_before = [np.array(w) for w in vgg.weights]
  optimizer = keras.optimizers.Adam(1e-2)
  with tf.GradientTape(persistent=True) as tape:
    image = generator(inputs, training=True)
    loss = sum(tf.reduce_mean(tf.abs(real - fake)) for real, fake in
               zip(perceptual(target), perceptual(image)))
  assert all(g is None for g in tape.gradient(loss, [w.value for w in vgg.weights]))
  assert tape.gradient(loss, image) is not None  # the image does get gradients
  grads = tape.gradient(loss, generator.trainable_variables)
  assert all(g is not None for g in grads)
  # The hint path reaches G through the CSA blocks' hint convs.
  hint_conv_grad = tape.gradient(loss, generator.mid_blocks[0].hint_conv1.kernel)
  assert float(tf.reduce_sum(tf.abs(hint_conv_grad))) > 0
  optimizer.apply_gradients(zip(grads, generator.trainable_variables))
  for before, after in zip(vgg_before, vgg.weights):
    np.testing.assert_array_equal(before, after)


def test_build_vgg19_from_a_weight_file(tmp_path):
  source = build_vgg19("none")
  path = str(tmp_path / "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")
  # The Keras 2 layout of the public ImageNet file: one group per layer.
  from keras.src.legacy.saving import legacy_h5_format  # pylint: disable=g-import-not-at-top
  with h5py.File(path, "w") as h5_file:
    legacy_h5_format.save_weights_to_hdf5_group(h5_file, source)
  loaded = build_vgg19(path)
  assert not loaded.trainable_weights
  for want, got in zip(source.weights, loaded.weights):
    np.testing.assert_array_equal(want, got)


def test_build_vgg19_missing_file_names_the_flag(tmp_path):
  with pytest.raises(FileNotFoundError, match="--vgg_weights"):
    build_vgg19(str(tmp_path / "missing.h5"))


def test_vgg_layers_round_trip(vgg):
  encoder = keras.saving.deserialize_keras_object(
      keras.saving.serialize_keras_object(HintEncoder(vgg, name="hints")))
  assert isinstance(encoder, HintEncoder) and encoder.compute_dtype == "float32"
  assert [layer.name for layer in encoder.vgg.layers] == [layer.name for layer in vgg.layers]
  assert not encoder.trainable and not encoder.vgg.trainable_weights
  perceptual = PerceptualFeatures.from_config(build_perceptual(vgg).get_config())
  assert isinstance(perceptual, PerceptualFeatures) and perceptual.compute_dtype == "float32"


def test_vgg_stays_float32_under_mixed_precision(vgg):
  keras.mixed_precision.set_global_policy("mixed_bfloat16")
  try:
    encoder, perceptual = HintEncoder(vgg), build_perceptual(vgg)
  finally:
    keras.mixed_precision.set_global_policy("float32")
  assert encoder(np.zeros((1, 16, 16, 4), "float32")).dtype == tf.float32
  assert all(f.dtype == tf.float32 for f in perceptual(np.zeros((1, 16, 16, 3), "float32")))
