"""TFLite conversion: agreement with Keras per quantisation, built-in ops only."""

import numpy as np
import pytest
import tensorflow as tf

import export_testlib as lib
from tfcolor.serving import export, signature, tflite_runner

SIZE = 32
# Measured on the tiny test model (random weights) at 32x32, max abs error in
# [-1, 1] output units; generous margins. docs/deployment.md lists them.
TOLERANCE = {"none": 1e-4, "float16": 2e-2, "dynamic_int8": 0.3, "int8": 1.0}


@pytest.fixture(scope="module")
def generator(tmp_path_factory):
  return lib.make_model_dir(tmp_path_factory.mktemp("tflite_run"))


@pytest.fixture(scope="module")
def model_inputs():
  lineart, hints = lib.random_inputs(1, SIZE, SIZE, seed=5, hint_fraction=0.1)
  return lineart, hints


def _max_error(generator, model_bytes, lineart, hints):
  colorizer = tflite_runner.TFLiteColorizer(model_content=model_bytes)
  image = colorizer.run_float(tflite_runner.lineart_to_model(lineart),
                              tflite_runner.hints_to_model(hints))
  return np.abs(image - lib.keras_reference(generator, lineart, hints)).max()


@pytest.mark.parametrize("quantize", ["none", "float16", "dynamic_int8"])
def test_tflite_matches_keras_within_tolerance(generator, model_inputs, quantize):
  model_bytes = export.convert_tflite(generator, SIZE, quantize)
  ops = export.check_builtin_ops(model_bytes)
  assert not [op for op in ops if op.startswith("Flex")]
  assert "VAR_HANDLE" not in ops  # weights are constants, not uninitialised variables
  error = _max_error(generator, model_bytes, *model_inputs)
  print(f"tflite {quantize}: max abs error {error:.2e}, {len(model_bytes)} bytes")
  assert error < TOLERANCE[quantize]


def test_int8_calibrates_on_tfrecords(generator, model_inputs, sample_dataset):
  representative = export.representative_dataset(
      ",".join(sample_dataset.val_files), SIZE, num_examples=4)
  model_bytes = export.convert_tflite(generator, SIZE, "int8", representative)
  assert "Flex" not in " ".join(export.check_builtin_ops(model_bytes))
  error = _max_error(generator, model_bytes, *model_inputs)
  print(f"tflite int8: max abs error {error:.2e}, {len(model_bytes)} bytes")
  assert error < TOLERANCE["int8"]


def test_flex_ops_are_refused(monkeypatch):
  monkeypatch.setattr(tflite_runner, "op_names", lambda _: ["CONV_2D", "FlexErf"])
  with pytest.raises(ValueError, match="FlexErf"):
    export.check_builtin_ops(b"")


def test_numpy_conversions_match_the_serving_graph():
  lineart, hints = lib.random_inputs(2, 8, 8, seed=1, hint_fraction=0.5)
  np.testing.assert_allclose(tflite_runner.lineart_to_model(lineart),
                             signature.lineart_to_model(lineart).numpy())
  np.testing.assert_allclose(tflite_runner.hints_to_model(hints),
                             signature.hints_to_model(hints).numpy())
  image = np.linspace(-1.2, 1.2, 97, dtype=np.float32)
  np.testing.assert_array_equal(tflite_runner.image_to_uint8(image),
                                signature.image_to_uint8(tf.constant(image)).numpy())


def test_runner_colorizes_any_size(generator):
  colorizer = tflite_runner.TFLiteColorizer(
      model_content=export.convert_tflite(generator, SIZE))
  lineart, hints = lib.random_inputs(1, 45, 21, seed=2)
  image = colorizer.colorize(lineart[0], hints[0])
  assert image.shape == (45, 21, 3) and image.dtype == np.uint8
  assert colorizer.colorize(lineart[0, :SIZE]).shape == (SIZE, 21, 3)  # no hints
  with pytest.raises(ValueError, match="hints must be"):
    colorizer.colorize(lineart[0], hints[0, :10])
