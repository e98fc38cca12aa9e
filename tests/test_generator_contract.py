"""What every generator of Table 1 promises the trainer, export and evaluation.

Same inputs and outputs (a dict of line art and hints -> float32 image in
[-1, 1]), unknown height and width when traced, clear input errors, saving and
config round trips, float32 output under mixed precision. Architecture-specific
tests live in test_generator.py, test_pix2pixhd.py and test_ci2018.py.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfcolor.models import build_generator, build_vgg19, factory
from model_testlib import TINY_GENERATORS, random_generator_inputs

GENERATORS = tuple(TINY_GENERATORS)
BASELINES = ("pix2pixhd", "ci2018")  # no VGG19 hint encoder


@pytest.fixture(scope="module")
def built():
  """Tiny generators by name, built once; csa and resnet share one random VGG19."""
  vgg = build_vgg19("none")
  cache = {}

  def get(name):
    if name not in cache:
      cache[name] = build_generator(TINY_GENERATORS[name], vgg)
    return cache[name]

  return get


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("height,width", [(32, 32), (48, 64), (64, 16)])
def test_output_shape_dtype_and_range(built, name, height, width):
  image = built(name)(random_generator_inputs(2, height, width), training=False)
  assert image.shape == (2, height, width, 3) and image.dtype == tf.float32
  assert float(tf.reduce_min(image)) >= -1 and float(tf.reduce_max(image)) <= 1


@pytest.mark.parametrize("name", GENERATORS)
def test_hints_change_the_output(built, name):
  generator = built(name)
  inputs = random_generator_inputs(1, 32, 32)
  no_hints = dict(inputs, hints=np.zeros_like(inputs["hints"]))
  assert float(tf.reduce_max(tf.abs(generator(inputs) - generator(no_hints)))) > 1e-4


@pytest.mark.large
@pytest.mark.parametrize("name", GENERATORS)
def test_traces_with_unknown_height_and_width(built, name):
  generator = built(name)
  serve = tf.function(lambda inputs: generator(inputs, training=False))
  concrete = serve.get_concrete_function({
      "lineart": tf.TensorSpec([None, None, None, 1], tf.float32),
      "hints": tf.TensorSpec([None, None, None, 4], tf.float32)})
  for height, width in ((32, 48), (16, 16)):
    inputs = random_generator_inputs(1, height, width)
    np.testing.assert_allclose(concrete(inputs), generator(inputs), atol=1e-5)


@pytest.mark.parametrize("name", GENERATORS)
def test_bad_inputs_are_named(built, name):
  generator = built(name)
  with pytest.raises(ValueError, match="multiples of 16"):
    generator(random_generator_inputs(1, 24, 32))
  with pytest.raises(ValueError, match="hints"):
    generator({"lineart": np.zeros((1, 16, 16, 1), "float32")})
  with pytest.raises(ValueError, match="hints.*4"):
    generator({"lineart": np.zeros((1, 16, 16, 1), "float32"),
               "hints": np.zeros((1, 16, 16, 3), "float32")})
  with pytest.raises(ValueError, match="lineart.*1"):
    generator({"lineart": np.zeros((1, 16, 16, 3), "float32"),
               "hints": np.zeros((1, 16, 16, 4), "float32")})


@pytest.mark.large
@pytest.mark.parametrize("name", GENERATORS)
def test_keras_file_and_config_round_trips_give_the_same_output(built, name, tmp_path):
  generator = built(name)
  inputs = random_generator_inputs(1, 32, 48, seed=1)
  path = str(tmp_path / f"{name}.keras")
  generator.save(path)
  loaded = keras.models.load_model(path)
  assert type(loaded) is type(generator)
  np.testing.assert_allclose(loaded(inputs), generator(inputs), atol=1e-6)

  clone = type(generator).from_config(generator.get_config())
  assert clone.get_config() == generator.get_config()
  clone.set_weights(generator.get_weights())
  np.testing.assert_allclose(clone(inputs), generator(inputs), atol=1e-6)


@pytest.mark.parametrize("name", GENERATORS)
def test_mixed_bfloat16_output_is_float32(name):
  keras.mixed_precision.set_global_policy("mixed_bfloat16")
  try:
    mixed = build_generator(TINY_GENERATORS[name])
  finally:
    keras.mixed_precision.set_global_policy("float32")
  image = mixed(random_generator_inputs(1, 32, 32))
  assert image.dtype == tf.float32 and float(tf.reduce_max(tf.abs(image))) <= 1
  assert any(layer.compute_dtype == "bfloat16" for layer in mixed.layers)


@pytest.mark.parametrize("name", BASELINES)
def test_baselines_build_no_vgg(name, monkeypatch):
  def no_vgg(*args, **kwargs):
    raise AssertionError(f"{name} must not build a VGG19")

  monkeypatch.setattr(factory, "build_vgg19", no_vgg)
  generator = factory.build_generator(TINY_GENERATORS[name], vgg=None)
  assert not any("vgg" in weight.path for weight in generator.weights)
  assert len(generator.weights) == len(generator.trainable_weights)
