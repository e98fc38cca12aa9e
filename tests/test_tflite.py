"""TFLite conversion: agreement with Keras per quantisation, built-in ops only."""

import tempfile

import numpy as np
import pytest
import tensorflow as tf

import export_testlib as lib
from tfcolor.serving import export, signature, tflite_export, tflite_process, tflite_runner

SIZE = lib.SharedRun.TFLITE_SIZE
# Measured on the tiny test model (random weights) at 32x32, max abs error in
# [-1, 1] output units; generous margins. docs/deployment.md lists them.
TOLERANCE = {"none": 1e-4, "float16": 2e-2, "dynamic_int8": 0.3, "int8": 1.0}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
  return lib.shared_run(tmp_path_factory)


@pytest.fixture(scope="module")
def generator(run):
  return run.generator


@pytest.fixture(scope="module")
def model_inputs():
  lineart, hints = lib.random_inputs(1, SIZE, SIZE, seed=5, hint_fraction=0.1)
  return lineart, hints


def _max_error(generator, model_bytes, lineart, hints):
  colorizer = tflite_runner.TFLiteColorizer(model_content=model_bytes)
  image = colorizer.run_float(tflite_runner.lineart_to_model(lineart),
                              tflite_runner.hints_to_model(hints))
  return np.abs(image - lib.keras_reference(generator, lineart, hints)).max()


@pytest.mark.large
@pytest.mark.parametrize("quantize", ["none", "float16", "dynamic_int8"])
def test_tflite_matches_keras_within_tolerance(run, generator, model_inputs, quantize):
  model_bytes = run.tflite_bytes(quantize)  # convert_tflite, shared with other tests
  ops = tflite_export.check_builtin_ops(model_bytes)
  assert not [op for op in ops if op.startswith("Flex")]
  assert "VAR_HANDLE" not in ops  # weights are constants, not uninitialised variables
  error = _max_error(generator, model_bytes, *model_inputs)
  print(f"tflite {quantize}: max abs error {error:.2e}, {len(model_bytes)} bytes")
  assert error < TOLERANCE[quantize]


@pytest.mark.large
def test_int8_calibrates_on_tfrecords_with_float_or_uint8_io(
    generator, model_inputs, sample_dataset, tmp_path):
  representative = tflite_export.representative_dataset(
      ",".join(sample_dataset.val_files), SIZE, num_examples=4)
  with tempfile.TemporaryDirectory() as source:  # one source, two conversions
    tflite_export.write_tflite_source(generator, SIZE, source, "int8")
    float_io = tflite_export.convert_tflite_source(source, "int8", representative)
    # In a child process, as tfcolor.export converts: the calibration data travels.
    path = tflite_process.convert_tflite_in_child(
        source, str(tmp_path / "uint8.tflite"), "int8", representative, int8_io="uint8")
  uint8_io = (tmp_path / "uint8.tflite").read_bytes()
  assert path == str(tmp_path / "uint8.tflite")
  assert "Flex" not in " ".join(tflite_export.check_builtin_ops(float_io))
  # The norms' (x - mean)^2 as int8 SUB and MUL in XNNPack, not a reference-kernel
  # SQUARED_DIFFERENCE; only the (1, 1, 1, C) epsilon ADD and RSQRT of each norm
  # and the hint encoder's input step stay out (docs/deployment.md).
  assert "SQUARED_DIFFERENCE" not in tflite_export.check_builtin_ops(float_io)
  left = {name for _, name in tflite_runner.undelegated_ops(float_io)}
  assert left == {"GREATER", "SELECT_V2", "STRIDED_SLICE", "PACK", "ADD", "RSQRT"}
  error = _max_error(generator, float_io, *model_inputs)
  print(f"tflite int8: max abs error {error:.2e}, {len(float_io)} bytes")
  assert error < TOLERANCE["int8"]

  # uint8 I/O: the same quantised model with the (de)quantisation of the
  # inputs and output left to the runner, so the same output within one step.
  colorizers = [tflite_runner.TFLiteColorizer(model_content=model_bytes)
                for model_bytes in (float_io, uint8_io)]
  assert [c.io_type for c in colorizers] == ["float32", "uint8"]
  details = colorizers[1].interpreter.get_signature_runner().get_output_details()
  output_scale = details["image"]["quantization"][0]
  assert 0 < output_scale < 0.01
  assert colorizers[0].io_spec() == {"size": SIZE, "ioType": "float32", "quantization": None}
  spec = colorizers[1].io_spec()  # what the browser's runner is given
  assert spec["ioType"] == "uint8" and spec["quantization"]["image"]["scale"] == output_scale
  assert sorted(spec["quantization"]) == ["hints", "image", "lineart"]
  lineart, hints = model_inputs
  images = [c.run_float(tflite_runner.lineart_to_model(lineart),
                        tflite_runner.hints_to_model(hints)) for c in colorizers]
  assert images[1].dtype == np.float32
  assert np.abs(images[0] - images[1]).max() <= output_scale + 1e-6
  assert colorizers[1].colorize(lineart[0], hints[0]).shape == (SIZE, SIZE, 3)


def _run(model_bytes, lineart, hints):
  return tflite_runner.TFLiteColorizer(model_content=model_bytes).run_float(
      tflite_runner.lineart_to_model(lineart), tflite_runner.hints_to_model(hints))


@pytest.mark.large  # spawns the conversion process
def test_export_converts_in_a_child_to_the_public_converters_model(run, model_inputs,
                                                                   tmp_path):
  path = tmp_path / "m.tflite"
  result = export.run_export(export.ExportConfig(
      model_dir=run.model_dir, tflite=str(path), tflite_size=SIZE))
  assert result["tflite"] == str(path)
  source = str(tmp_path / "source")
  tflite_export.write_tflite_source(run.generator, SIZE, source)
  converter = tf.lite.TFLiteConverter.from_saved_model(  # TF's documented path
      source, signature_keys=[tflite_export.TFLITE_SIGNATURE])
  converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
  public = converter.convert()
  exported = path.read_bytes()
  assert tflite_export.check_builtin_ops(exported) == tflite_export.check_builtin_ops(public)
  np.testing.assert_array_equal(_run(exported, *model_inputs), _run(public, *model_inputs))


@pytest.mark.large  # spawns the conversion process
def test_a_failed_child_conversion_writes_nothing_and_says_why_in_one_line(tmp_path):
  source = tmp_path / "not_a_saved_model"
  source.mkdir()
  out = tmp_path / "out"
  with pytest.raises(ValueError, match="TFLite conversion .* failed: ValueError: .* is "
                     "not a SavedModel") as error:
    tflite_process.convert_tflite_in_child(str(source), str(out / "m.tflite"))
  assert "\n" not in str(error.value) and str(source) in str(error.value)
  assert not out.exists() or not list(out.iterdir())


def test_int8_io_needs_int8(generator):
  with pytest.raises(ValueError, match="--int8_io=uint8 needs --quantize=int8"):
    tflite_export.convert_tflite(generator, SIZE, "float16", int8_io="uint8")
  with pytest.raises(ValueError, match="--int8_io=uint8 needs --quantize=int8"):
    export.validate_export_config(export.ExportConfig(
        model_dir="run", tflite="m.tflite", int8_io="uint8"))


def test_flex_ops_are_refused(monkeypatch):
  monkeypatch.setattr(tflite_runner, "op_names", lambda _: ["CONV_2D", "FlexErf"])
  with pytest.raises(ValueError, match="FlexErf"):
    tflite_export.check_builtin_ops(b"")


def test_numpy_conversions_match_the_serving_graph():
  lineart, hints = lib.random_inputs(2, 8, 8, seed=1, hint_fraction=0.5)
  np.testing.assert_allclose(tflite_runner.lineart_to_model(lineart),
                             signature.lineart_to_model(lineart).numpy())
  np.testing.assert_allclose(tflite_runner.hints_to_model(hints),
                             signature.hints_to_model(hints).numpy())
  image = np.linspace(-1.2, 1.2, 97, dtype=np.float32)
  np.testing.assert_array_equal(tflite_runner.image_to_uint8(image),
                                signature.image_to_uint8(tf.constant(image)).numpy())


def test_runner_colorizes_any_size(run):
  colorizer = tflite_runner.TFLiteColorizer(model_content=run.tflite_bytes())
  lineart, hints = lib.random_inputs(1, 45, 21, seed=2)
  image = colorizer.colorize(lineart[0], hints[0])
  assert image.shape == (45, 21, 3) and image.dtype == np.uint8
  assert colorizer.colorize(lineart[0, :SIZE]).shape == (SIZE, 21, 3)  # no hints
  with pytest.raises(ValueError, match="hints must be"):
    colorizer.colorize(lineart[0], hints[0, :10])


def test_float_graph_runs_in_xnnpack(run):
  """Instance norms, reflection pads and transposed convs are exported in ops XNNPack delegates.

  Keras's GroupNormalization (5-D reshapes, SQUARE, NEG) and MIRROR_PAD ran
  outside the fast kernels, TRANSPOSE_CONV in slow ones
  (tfcolor.models.tflite_forms); the phases' DEPTH_TO_SPACE is delegated. What is left to
  the reference kernels is the hint encoder's input step: the hinted-pixel
  select and VGG's RGB -> BGR flip, on the (1, S, S, 3) hints only.
  """
  model_bytes = run.tflite_bytes("none")
  ops = tflite_export.check_builtin_ops(model_bytes)
  assert "MIRROR_PAD" not in ops and "SQUARE" not in ops and "RESHAPE" not in ops
  assert "TRANSPOSE_CONV" not in ops and "DEPTH_TO_SPACE" in ops
  left = sorted({name for _, name in tflite_runner.undelegated_ops(model_bytes)})
  assert left == ["GREATER", "PACK", "SELECT_V2", "STRIDED_SLICE"]
  assert len(tflite_runner.undelegated_ops(model_bytes)) == 6


@pytest.mark.large  # converts a model with 520-channel mid blocks
def test_deep_convs_convert_split_from_their_own_weights(tmp_path):
  # Over 512 input channels a 3x3 conv is exported as convs over channel
  # groups (520 -> 3 unequal groups: SPLIT_V), each reading its own re-cut
  # kernel: the source SavedModel saves those parts, not the whole kernels
  # as well, and the TFLite model still computes the Keras model.
  import dataclasses  # pylint: disable=import-outside-toplevel
  import keras  # pylint: disable=import-outside-toplevel
  import model_testlib  # pylint: disable=import-outside-toplevel
  from tfcolor.models import factory  # pylint: disable=import-outside-toplevel
  keras.utils.set_random_seed(6)
  generator = factory.build_generator(dataclasses.replace(
      model_testlib.TINY_MODEL, down_filters=(8, 16, 16, 520)))
  lineart, hints = lib.random_inputs(1, SIZE, SIZE, seed=6, hint_fraction=0.1)
  source = str(tmp_path / "source")
  tflite_export.write_tflite_source(generator, SIZE, source)
  shapes = tf.train.load_checkpoint(
      f"{source}/variables/variables").get_variable_to_shape_map().values()
  deep_inputs = sorted(shape[2] for shape in shapes if len(shape) == 4 and shape[3] == 520)
  # down4 (16 inputs, kept whole); 4 mid-block convs in 3 parts each, none whole.
  assert deep_inputs == [16] + [173] * 8 + [174] * 4
  saved_values = sum(np.prod(shape) for shape in shapes)
  # What the model reads (VGG19 up to block 4), plus the save counter; the
  # whole deep kernels as well would add 4 x 9 x 520 x 520 values.
  read_values = sum(np.prod(w.shape) for w in generator.weights
                    if not w.path.startswith("block5"))
  assert saved_values <= read_values + 1
  model_bytes = tflite_export.convert_tflite_source(source)
  assert "SPLIT_V" in tflite_export.check_builtin_ops(model_bytes)
  assert _max_error(generator, model_bytes, lineart, hints) < TOLERANCE["none"]
