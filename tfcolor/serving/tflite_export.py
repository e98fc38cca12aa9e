"""The TFLite model: one fixed input size, converted from a temporary SavedModel.

Input size a multiple of 16; float32 inputs and output in the model's value
ranges (line art [1, S, S, 1] and hints [1, S, S, 4] in [-1, 1], image
[1, S, S, 3] in [-1, 1]); `tflite_runner` does the uint8 conversions, padding
and resizing around it. Quantisation modes:

  none          float32 weights and activations
  float16       float16 weights, float32 compute
  dynamic_int8  int8 weights, activations quantised on the fly
  int8          int8 weights and activations, calibrated on a representative
                dataset (line art and hints from TFRecords); float32 at the
                inputs and output, or quantised uint8 with int8_io="uint8"

Only built-in TFLite ops are allowed (no Flex ops), so the plain LiteRT
interpreter runs every export; `check_builtin_ops` verifies it.
"""

import functools
import tempfile

from absl import logging
import numpy as np
import tensorflow as tf
from tensorflow.lite.python import lite as tf_lite

from tfcolor import config as config_lib
from tfcolor.models import tflite_forms
from tfcolor.serving import saved_model_export
from tfcolor.serving import signature
from tfcolor.serving import tflite_runner

QUANTIZE_MODES = ("none", "float16", "dynamic_int8", "int8")
INT8_IO_TYPES = ("float", "uint8")
TFLITE_SIGNATURE = "colorize"


def write_tflite_source(generator, size, path, quantize="none"):
  """Writes the SavedModel that TFLite converts: one fixed-size float32 signature.

  Signature `TFLITE_SIGNATURE`: lineart [1, S, S, 1] and hints [1, S, S, 4] in
  the model's value ranges -> {"image": [1, S, S, 3]}. Written, like the
  serving export, through `keras.export.ExportArchive`
  (`saved_model_export.new_archive`), so the variables are in the SavedModel's
  checkpoint and the converter freezes them itself. Traced under
  `tflite_forms`: instance norms, reflection pads, transposed convs and (but
  for `quantize="int8"`) the deep convs in the ops XNNPack runs fast (the same
  values; the generator itself is unchanged).
  """
  specs = [tf.TensorSpec([1, size, size, 1], tf.float32, name=signature.LINEART_KEY),
           tf.TensorSpec([1, size, size, 4], tf.float32, name=signature.HINTS_KEY)]

  def colorize(lineart, hints):
    image = generator({signature.LINEART_KEY: lineart, signature.HINTS_KEY: hints},
                      training=False)
    return {signature.IMAGE_KEY: tf.cast(image, tf.float32)}

  archive = saved_model_export.new_archive()
  with tflite_forms.tflite_forms(generator, split_deep_convs=quantize != "int8"):
    archive.add_endpoint(TFLITE_SIGNATURE, colorize, input_signature=specs)
    archive.write_out(path, verbose=False)


def representative_dataset(files, size, num_examples):
  """A callable returning the int8 calibration inputs: fixed-hint eval crops of `files`.

  A `functools.partial` of a module function, so it can be sent to the
  conversion process (`tflite_process.convert_tflite_in_child`).
  """
  return functools.partial(_eval_crops, files, size, num_examples)


def _eval_crops(files, size, num_examples):
  from tfcolor import data as tfcolor_data  # pylint: disable=import-outside-toplevel

  data_config = config_lib.DataConfig(eval_data=files, crop_size=size,
                                      eval_mode="center_crop")
  dataset = tfcolor_data.make_eval_dataset(data_config, batch_size=1)
  count = 0
  for batch in dataset.take(num_examples):
    count += 1
    yield {signature.LINEART_KEY: batch["lineart"].numpy().astype(np.float32),
           signature.HINTS_KEY: batch["hints"].numpy().astype(np.float32)}
  if not count:
    raise ValueError(f"--representative_data={files}: no examples read")


def convert_tflite(generator, size, quantize="none", representative_data=None,
                   int8_io="float"):
  """The generator as TFLite flatbuffer bytes at `size` x `size`.

  Writes the converter's source SavedModel (`write_tflite_source`) to a
  temporary folder in $TMPDIR (as large as the float32 weights) and converts
  it with `convert_tflite_source`.

  Args:
    generator: a Keras generator (dict of "lineart", "hints" -> image).
    size: fixed input height and width (multiple of 16).
    quantize, representative_data, int8_io: as in `convert_tflite_source`.
  """
  check_tflite_options(quantize, representative_data is not None, int8_io)
  config_lib.check_size("TFLite size", size)
  with tempfile.TemporaryDirectory(prefix="tfcolor_tflite_") as source:
    write_tflite_source(generator, size, source, quantize)
    return convert_tflite_source(source, quantize, representative_data, int8_io)


def check_tflite_options(quantize, has_representative_data, int8_io):
  """Raises ValueError naming the setting for TFLite options that cannot work."""
  if quantize not in QUANTIZE_MODES:
    raise ValueError(f"--quantize must be one of {QUANTIZE_MODES}, got {quantize!r}")
  if int8_io not in INT8_IO_TYPES:
    raise ValueError(f"--int8_io must be one of {INT8_IO_TYPES}, got {int8_io!r}")
  if int8_io != "float" and quantize != "int8":
    raise ValueError(f"--int8_io={int8_io} needs --quantize=int8 (the other modes "
                     "keep float activations, so their I/O is float32)")
  if quantize == "int8" and not has_representative_data:
    raise ValueError("--quantize=int8 needs --representative_data=GLOB (TFRecords "
                     "to calibrate the activation ranges on)")


def convert_tflite_source(source, quantize="none", representative_data=None,
                          int8_io="float"):
  """Converts a `write_tflite_source` SavedModel to TFLite flatbuffer bytes.

  The converter freezes the variables itself, in C++ (`_SourceConverter`).
  Freezing them into a GraphDef in Python first
  (`convert_variables_to_constants_v2` + `from_concrete_functions`) gave the
  same model but held ~20 copies of the weights in memory: over 20 GB for the
  default-width generator (890 MB of weights). Either way the weights end up
  as constants, not resource variables that nothing would initialise.

  Memory (docs/deployment.md, Export memory): the converter's buffers are
  written with offsets after the flatbuffer (`_experimental_use_buffer_offset`,
  which the LiteRT interpreter reads), which skips two Python passes over the
  whole model (buffer deduplication and the metadata round trip through
  flatbuffer objects, 2.8 GB above the converted model at the default
  widths); the converted values are the same.

  Args:
    source: the SavedModel folder.
    quantize: one of QUANTIZE_MODES.
    representative_data: for int8, a callable returning an iterator of
      {"lineart", "hints"} float32 input dicts (`representative_dataset`).
    int8_io: for int8, "float" (float32 inputs and output, quantised inside
      the model) or "uint8" (quantised uint8 inputs and output; the caller
      applies each tensor's scale and zero point, as `tflite_runner` does).
  """
  check_tflite_options(quantize, representative_data is not None, int8_io)
  if not tf.saved_model.contains_saved_model(source):
    raise ValueError(f"{source} is not a SavedModel (write it with write_tflite_source)")
  converter = _SourceConverter(source, {tf.saved_model.SERVING}, [TFLITE_SIGNATURE])
  converter._experimental_use_buffer_offset = True  # pylint: disable=protected-access
  configure_converter(converter, quantize, representative_data, int8_io)
  model_bytes = converter.convert()
  check_builtin_ops(model_bytes)
  return model_bytes


def configure_converter(converter, quantize, representative_data=None, int8_io="float"):
  """Sets `converter`'s ops and quantisation for one of QUANTIZE_MODES (checked by the caller)."""
  converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
  if quantize == "float16":
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
  elif quantize == "dynamic_int8":
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
  elif quantize == "int8":
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_data
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
                                           tf.lite.OpsSet.TFLITE_BUILTINS]
    if int8_io == "uint8":
      converter.inference_input_type = tf.uint8
      converter.inference_output_type = tf.uint8


class _SourceConverter(tf_lite.TFLiteSavedModelConverterV2):
  """`TFLiteConverter.from_saved_model`'s converter without its Python loads.

  TF 2.21's `from_saved_model` and `convert()` each restore the whole
  SavedModel in Python (`tf.saved_model.load`: the signatures' names, then
  debug info for error messages), a copy of the weights each that the
  process keeps while the C++ converter reads the variables itself. Here
  `convert()` only reads the graph (for the converter's statistics) and
  converts; tests/test_tflite.py checks that the model is the one
  `from_saved_model` gives.
  """

  def convert(self):
    # pylint: disable=protected-access
    graph_def, _, _ = self._load_saved_model(self.saved_model_dir, self._saved_model_tags)
    return self._convert_from_saved_model(graph_def)


def check_builtin_ops(model_bytes):
  """Raises ValueError if the TFLite model needs Flex (TF) or custom ops."""
  ops = tflite_runner.op_names(model_bytes)
  bad = sorted({op for op in ops if op.startswith("Flex") or op in ("CUSTOM", "DELEGATE")})
  if bad:
    raise ValueError(f"the TFLite model needs ops outside the built-in set: {bad}; "
                     "the plain LiteRT interpreter cannot run it")
  return ops


def write_tflite(path, model_bytes):
  """Writes the flatbuffer atomically."""
  # pylint: disable=import-outside-toplevel
  from tfcolor import io_utils
  io_utils.atomic_write_bytes(path, model_bytes)
  logging.info("Wrote TFLite model %s (%.1f MB)", path, len(model_bytes) / 1e6)
  return path
