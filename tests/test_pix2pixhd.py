"""pix2pixHD's global generator (Table 1 baseline): shapes, counts, saving, checks."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfcolor.config import ModelConfig
from tfcolor.models import Pix2PixHDGenerator, build_generator, factory
from model_testlib import TINY_MODEL

TINY = dataclasses.replace(TINY_MODEL, generator="pix2pixhd")


@pytest.fixture(scope="module")
def generator():
  return build_generator(TINY)


def _inputs(batch, height, width, seed=0):
  rng = np.random.default_rng(seed)
  mask = (rng.uniform(size=(batch, height, width, 1)) < 0.2).astype("float32")
  return {"lineart": rng.uniform(-1, 1, (batch, height, width, 1)).astype("float32"),
          "hints": np.concatenate([rng.uniform(-1, 1, (batch, height, width, 3)) * mask,
                                   mask], axis=-1).astype("float32")}


@pytest.mark.parametrize("height,width", [(32, 32), (64, 64), (48, 32)])
def test_output_shape_dtype_and_range(generator, height, width):
  image = generator(_inputs(2, height, width), training=False)
  assert image.shape == (2, height, width, 3) and image.dtype == tf.float32
  assert float(tf.reduce_min(image)) >= -1 and float(tf.reduce_max(image)) <= 1


def test_hints_change_the_output(generator):
  inputs = _inputs(1, 32, 32)
  no_hints = dict(inputs, hints=np.zeros_like(inputs["hints"]))
  assert float(tf.reduce_max(tf.abs(generator(inputs) - generator(no_hints)))) > 1e-4


def test_traces_with_unknown_height_and_width(generator):
  serve = tf.function(lambda inputs: generator(inputs, training=False))
  concrete = serve.get_concrete_function({
      "lineart": tf.TensorSpec([None, None, None, 1], tf.float32),
      "hints": tf.TensorSpec([None, None, None, 4], tf.float32)})
  inputs = _inputs(1, 32, 48)
  np.testing.assert_allclose(concrete(inputs), generator(inputs), atol=1e-5)


def test_bad_inputs_are_named(generator):
  with pytest.raises(ValueError, match="multiples of 16"):
    generator(_inputs(1, 24, 32))
  with pytest.raises(ValueError, match="lineart.*1"):
    generator({"lineart": np.zeros((1, 16, 16, 3), "float32"),
               "hints": np.zeros((1, 16, 16, 4), "float32")})
  with pytest.raises(ValueError, match="hints"):
    generator({"lineart": np.zeros((1, 16, 16, 1), "float32")})


def test_config_round_trip_gives_the_same_output(generator):
  clone = Pix2PixHDGenerator.from_config(generator.get_config())
  assert clone.get_config() == generator.get_config()
  clone.set_weights(generator.get_weights())
  inputs = _inputs(1, 32, 48, seed=1)
  np.testing.assert_allclose(clone(inputs), generator(inputs), atol=1e-6)


def test_save_and_load_keras_file(generator, tmp_path):
  path = str(tmp_path / "pix2pixhd.keras")
  generator.save(path)
  loaded = keras.models.load_model(path)
  assert isinstance(loaded, Pix2PixHDGenerator)
  inputs = _inputs(1, 32, 32, seed=2)
  np.testing.assert_allclose(loaded(inputs), generator(inputs), atol=1e-6)


def test_builds_no_vgg(monkeypatch):
  def no_vgg(*args, **kwargs):
    raise AssertionError("pix2pixhd must not build a VGG19")
  monkeypatch.setattr(factory, "build_vgg19", no_vgg)
  generator = factory.build_generator(TINY, vgg=None)
  assert not any("vgg" in weight.path for weight in generator.weights)
  assert len(generator.weights) == len(generator.trainable_weights)


def _conv(kernel, in_channels, out_channels):  # kernel + bias
  return kernel * kernel * in_channels * out_channels + out_channels


def _norm(channels):  # instance norm scale + offset
  return 2 * channels


def _expected_params(c):
  """pix2pixHD's G1 as listed in the brief, counted by hand."""
  total = _conv(7, 1 + 4, c.stem_filters) + _norm(c.stem_filters)
  width = c.stem_filters
  for down in c.down_filters:
    total += _conv(3, width, down) + _norm(down)
    width = down
  total += c.num_mid_blocks * 2 * (_conv(3, width, width) + _norm(width))
  for up in c.up_filters:  # transposed 3x3 convs: same count as a conv
    total += _conv(3, width, up) + _norm(up)
    width = up
  return total + _conv(7, width, 3)


def _params(model):
  return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def test_tiny_parameter_count(generator):
  assert _params(generator) == _expected_params(TINY)


def test_pix2pixhd_width_parameter_count_is_pinned():
  # pix2pixHD's global generator: ngf=64, 4 downsamplings, 9 blocks (Table 1 config).
  config = ModelConfig(generator="pix2pixhd", num_mid_blocks=9)
  assert _expected_params(config) == 182_492_291
  assert _params(build_generator(config)) == 182_492_291


def test_mixed_bfloat16_output_is_float32():
  keras.mixed_precision.set_global_policy("mixed_bfloat16")
  try:
    mixed = build_generator(TINY)
  finally:
    keras.mixed_precision.set_global_policy("float32")
  image = mixed(_inputs(1, 32, 32))
  assert image.dtype == tf.float32 and float(tf.reduce_max(tf.abs(image))) <= 1
  assert mixed.mid_blocks[0].compute_dtype == "bfloat16"
