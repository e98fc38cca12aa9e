"""Ci et al. 2018 (Table 1 baseline): layers, parameter counts, critic, local features.

Shapes, tracing, input errors, round trips, mixed precision and "no VGG19" of
the generator: test_generator_contract.py.
"""

import dataclasses
import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfcolor.training import losses
from tfcolor.config import ModelConfig
from tfcolor.models import (Ci2018Critic, Ci2018Generator, GroupedConv2D,
                            HintDownsampling, PixelShuffle, ResNeXtBlock,
                            build_discriminator, build_generator,
                            load_local_features)
from tfcolor.models.ci2018 import tunnel_dilations
from model_testlib import TINY_GENERATORS
from model_testlib import conv_params as _conv
from model_testlib import random_generator_inputs as _inputs
from model_testlib import trainable_params as _params

TINY = dataclasses.replace(TINY_GENERATORS["ci2018"], discriminator="ci2018_critic")
FEATURE_CHANNELS = 6


def _save_feature_net(path, stride=16, seed=0):
  """A small fully convolutional 'pretrained' net: line art -> 1/stride size."""
  keras.utils.set_random_seed(seed)
  model = keras.Sequential([keras.Input((None, None, 1)),
                            keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
                            keras.layers.AveragePooling2D(stride),
                            keras.layers.Conv2D(FEATURE_CHANNELS, 1)], name="feature_net")
  model.save(path)
  return path


@pytest.fixture(scope="module")
def generator():
  return build_generator(TINY)


@pytest.fixture(scope="module")
def feature_path(tmp_path_factory):
  return _save_feature_net(str(tmp_path_factory.mktemp("features") / "features.keras"))


@pytest.fixture(scope="module")
def featured_config(feature_path):
  return dataclasses.replace(TINY, local_features=feature_path)


@pytest.fixture(scope="module")
def critic():
  return build_discriminator(TINY)


# --- layers -------------------------------------------------------------------


def test_paper_dilation_schedule():
  assert tunnel_dilations(20, 0) == (1,) * 20
  assert tunnel_dilations(8, 1) == (1, 1, 2, 2, 4, 4, 2, 1)
  assert tunnel_dilations(5, 3) == (1, 2, 4, 2, 1)
  for count in range(13):
    assert len(tunnel_dilations(count, 2)) == count


@pytest.mark.parametrize("strides,dilation", [(1, 1), (1, 2), (1, 4), (2, 1)])
def test_grouped_conv_equals_the_native_grouped_op(strides, dilation):
  layer = GroupedConv2D(16, 2 + strides, strides=strides, padding="same",
                        dilation_rate=dilation, groups=8, use_bias=False)
  inputs = tf.random.stateless_normal((2, 12, 10, 16), seed=(1, 2))
  assert layer.compute_output_shape(inputs.shape) == layer(inputs).shape
  assert layer.kernel.shape == (2 + strides, 2 + strides, 2, 16)
  # Forward (only) works natively on CPU.
  native = tf.nn.convolution(inputs, layer.kernel, strides, "SAME", dilations=dilation)
  np.testing.assert_allclose(layer(inputs), native, atol=1e-5)


def test_grouped_conv_trains_and_double_backprops_on_cpu():
  layer = GroupedConv2D(8, 3, padding="same", dilation_rate=2, groups=4)
  inputs = tf.random.stateless_normal((1, 8, 8, 8), seed=(3, 4))
  with tf.GradientTape() as outer:
    with tf.GradientTape() as inner:
      inner.watch(inputs)
      output = tf.reduce_sum(tf.sin(layer(inputs)))
    penalty = tf.reduce_sum(tf.square(inner.gradient(output, inputs)))
  grads = outer.gradient(penalty, layer.trainable_weights)
  assert all(grad is not None and np.all(np.isfinite(grad)) for grad in grads)


def test_resnext_block_shapes_and_groups():
  block = ResNeXtBlock(16, cardinality=32, strides=2)
  output = block(tf.zeros((2, 10, 8, 16)))
  assert output.shape == (2, 5, 4, 16) == block.compute_output_shape((2, 10, 8, 16))
  assert block.groups == math.gcd(32, 8) == 8          # reduced for a small width
  assert ResNeXtBlock(512, cardinality=32).groups == 32  # the paper's, unchanged
  with pytest.raises(ValueError, match="channels"):
    ResNeXtBlock(16)(tf.zeros((1, 8, 8, 8)))


def test_pixel_shuffle_is_depth_to_space():
  inputs = tf.reshape(tf.range(2 * 3 * 4 * 8, dtype=tf.float32), (2, 3, 4, 8))
  output = PixelShuffle(2)(inputs)
  assert output.shape == (2, 6, 8, 2)
  np.testing.assert_array_equal(output, tf.nn.depth_to_space(inputs, 2))


def test_hint_downsampling_keeps_small_hints():
  hints = np.zeros((1, 8, 8, 4), "float32")
  hints[0, 1, 2] = [0.5, -0.5, 1.0, 1.0]      # one pixel in cell (0, 0)
  hints[0, 5, 4] = [1.0, 0.0, -1.0, 1.0]      # two pixels in cell (1, 1)
  hints[0, 6, 7] = [0.0, 1.0, 0.0, 1.0]
  small = HintDownsampling(4)(hints).numpy()
  assert small.shape == (1, 2, 2, 4)
  np.testing.assert_allclose(small[0, 0, 0], [0.5, -0.5, 1.0, 1.0])
  np.testing.assert_allclose(small[0, 1, 1], [0.5, 0.5, -0.5, 1.0])
  np.testing.assert_array_equal(small[0, 0, 1], 0)
  np.testing.assert_array_equal(small[0, 1, 0], 0)


# --- generator ----------------------------------------------------------------


def _resnext(width, cardinality, kernel=3):  # no biases
  bottleneck = width // 2
  groups = math.gcd(cardinality, bottleneck)
  return (width * bottleneck + kernel * kernel * (bottleneck // groups) * bottleneck
          + bottleneck * width)


def _expected_generator_params(f, blocks, feature_channels=0):
  """The layer list of Ci et al.'s generator, counted by hand."""
  total = _conv(7, 4, f)                                              # hints
  total += (_conv(3, 1, f // 2) + _conv(4, f // 2, f) + _conv(4, f, 2 * f)
            + _conv(4, 3 * f, 4 * f) + _conv(4, 4 * f, 8 * f))       # encoder
  tunnels = ((8 * f, 8 * f + feature_channels, 32), (4 * f, 8 * f, 32),
             (2 * f, 4 * f, 32), (f, 2 * f, 16))
  for (width, in_channels, cardinality), count in zip(tunnels, blocks):
    total += _conv(3, in_channels, width) + count * _resnext(width, cardinality)
    total += _conv(3, width, 2 * width)                               # before the shuffle
  return total + _conv(3, f, 3)                                       # head


def test_parameter_counts(generator):
  assert _params(generator) == _expected_generator_params(8, (1, 1, 1, 1))
  paper = build_generator(ModelConfig(generator="ci2018"))
  assert _expected_generator_params(64, (20, 8, 8, 5)) == 19_576_707
  assert _params(paper) == 19_576_707


def test_critic_score_is_float32_under_mixed_bfloat16():
  keras.mixed_precision.set_global_policy("mixed_bfloat16")
  try:
    critic = build_discriminator(TINY)
  finally:
    keras.mixed_precision.set_global_policy("float32")
  inputs = _inputs(1, 32, 32)
  image = tf.zeros((1, 32, 32, 3))
  outputs = critic(tf.concat([inputs["lineart"], image], -1))
  assert outputs[0][-1].dtype == tf.float32 and outputs[0][0].dtype == tf.bfloat16


# --- local features ------------------------------------------------------------


def test_local_features_feed_the_generator(featured_config):
  generator = build_generator(featured_config)
  assert generator.tunnel_in_convs[0].kernel.shape[2] == 8 * 8 + FEATURE_CHANNELS
  assert _params(generator) == _expected_generator_params(8, (1, 1, 1, 1),
                                                          FEATURE_CHANNELS)
  feature_weights = generator.local_features.weights
  assert feature_weights and not generator.local_features.trainable_weights
  generator.trainable = True  # the pretrained net stays frozen
  assert not any(weight is trainable for weight in feature_weights
                 for trainable in generator.trainable_weights)
  inputs = _inputs(1, 32, 32)
  before = generator(inputs)
  last = generator.local_features.feature_model.layers[-1]
  last.kernel.assign(last.kernel * -3.0 + 0.5)
  assert float(tf.reduce_max(tf.abs(generator(inputs) - before))) > 1e-5


def test_local_features_travel_with_a_saved_generator(featured_config, tmp_path):
  features = str(tmp_path / "moved.keras")
  generator = build_generator(dataclasses.replace(
      featured_config, local_features=_save_feature_net(features, seed=5)))
  path = str(tmp_path / "ci2018.keras")
  generator.save(path)
  os.remove(features)  # the saved generator does not need the file any more
  loaded = keras.models.load_model(path)
  inputs = _inputs(1, 32, 32, seed=3)
  np.testing.assert_allclose(loaded(inputs), generator(inputs), atol=1e-6)
  clone = Ci2018Generator.from_config(generator.get_config())
  clone.set_weights(generator.get_weights())
  np.testing.assert_allclose(clone(inputs), generator(inputs), atol=1e-6)


def test_local_features_errors_name_the_flag(tmp_path):
  assert load_local_features("") is None
  with pytest.raises(FileNotFoundError, match="--local_features"):
    load_local_features(str(tmp_path / "missing.keras"))
  garbage = tmp_path / "garbage.keras"
  garbage.write_bytes(b"not a zip archive")
  with pytest.raises(ValueError, match="--local_features.*not a Keras model"):
    load_local_features(str(garbage))
  eighth = _save_feature_net(str(tmp_path / "eighth.keras"), stride=8)
  with pytest.raises(ValueError, match="--local_features.*1/16"):
    build_generator(dataclasses.replace(TINY, local_features=eighth))


# --- critic --------------------------------------------------------------------


def _critic_inputs(batch, height, width, seed=0):
  return tf.random.stateless_uniform((batch, height, width, 4), (seed, 9), -1, 1)


@pytest.mark.parametrize("height,width", [(32, 32), (64, 64), (48, 32)])
def test_critic_output_format(critic, height, width):
  outputs = critic(_critic_inputs(2, height, width))
  assert len(outputs) == 1 and len(outputs[0]) == 6
  assert outputs[0][-1].shape == (2, 1) and outputs[0][-1].dtype == tf.float32
  assert outputs[0][0].shape == (2, height // 2, width // 2, 8)
  assert outputs[0][3].shape == (2, height // 16, width // 16, 32)


def test_critic_feeds_the_losses(critic):
  real = critic(_critic_inputs(3, 32, 32, seed=1))
  fake = critic(_critic_inputs(3, 32, 32, seed=2))
  adversarial = losses.discriminator_adversarial_loss(real, fake, "bce")
  matching = losses.feature_matching_loss(real, fake)
  assert adversarial.shape == (3,) and matching.shape == (3,)
  assert np.all(np.isfinite(adversarial)) and np.all(matching.numpy() > 0)


def test_critic_scores_each_example_alone(critic):
  batch = _critic_inputs(3, 32, 48, seed=4)
  together, alone = critic(batch), critic(batch[:1])
  for in_batch, by_itself in zip(together[0], alone[0]):
    np.testing.assert_allclose(in_batch[:1], by_itself, atol=1e-5)


def test_critic_gradient_penalty_trains_the_critic(critic):
  lineart, image = _critic_inputs(2, 32, 32)[..., :1], _critic_inputs(2, 32, 32, 5)[..., 1:]
  with tf.GradientTape() as outer:
    with tf.GradientTape() as inner:
      inner.watch(image)
      score = tf.reduce_sum(critic(tf.concat([lineart, image], -1))[0][-1])
    norms = tf.norm(tf.reshape(inner.gradient(score, image), (2, -1)), axis=1)
    penalty = tf.reduce_sum(tf.square(norms - 1.0))
  grads = outer.gradient(penalty, critic.trainable_weights)
  # Every weight but the score's bias shapes d score / d image.
  missing = [weight.path for weight, grad in zip(critic.trainable_weights, grads)
             if grad is None]
  assert missing == ["score/bias"]
  assert all(np.all(np.isfinite(grad)) for grad in grads if grad is not None)


def _expected_critic_params(f, feature_channels=0):
  """Ci et al.'s critic, counted by hand (no biases but the dense score)."""
  total = _conv(7, 4, f, bias=False) + _conv(4, f, f, bias=False)
  for width in (f, 2 * f, 4 * f):
    total += _resnext(width, 8) + _resnext(width, 8, kernel=4)
  total += _conv(1, f, 2 * f, bias=False) + _conv(1, 2 * f, 4 * f, bias=False)
  total += _conv(3, 4 * f + feature_channels, 8 * f, bias=False)
  total += 3 * (_resnext(8 * f, 8) + _resnext(8 * f, 8, kernel=4)) + _resnext(8 * f, 8)
  return total + _conv(4, 8 * f, 8 * f, bias=False) + 8 * f + 1


def test_critic_parameter_counts(critic):
  assert _params(critic) == _expected_critic_params(8)
  paper = build_discriminator(ModelConfig(discriminator="ci2018_critic"))
  assert _params(paper) == _expected_critic_params(64) == 8_255_873


def test_critic_with_local_features(featured_config):
  critic = build_discriminator(featured_config)
  assert _params(critic) == _expected_critic_params(8, FEATURE_CHANNELS)
  assert not critic.local_features.trainable_weights
  clone = Ci2018Critic.from_config(critic.get_config())
  clone.set_weights(critic.get_weights())
  batch = _critic_inputs(2, 32, 32, seed=6)
  np.testing.assert_allclose(clone(batch)[0][-1], critic(batch)[0][-1], atol=1e-6)
