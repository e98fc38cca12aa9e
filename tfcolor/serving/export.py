"""Exports a trained generator: SavedModel for TF Serving, TFLite for devices.

SavedModel: `export_base/<version>/`, the layout TF Serving watches (it loads
the highest numeric version). The model is written to a hidden temporary
folder in `export_base` and renamed into place, so TF Serving never sees half
a model and a crash leaves no numeric folder behind.

TFLite: one fixed input size (a multiple of 16), converted from a temporary
SavedModel (`write_tflite_source`); float32 inputs and output in the model's
value ranges (line art [1, S, S, 1] and hints [1, S, S, 4] in
[-1, 1], image [1, S, S, 3] in [-1, 1]); `tflite_runner` does the uint8
conversions, padding and resizing around it. Quantisation modes:

  none          float32 weights and activations
  float16       float16 weights, float32 compute
  dynamic_int8  int8 weights, activations quantised on the fly
  int8          int8 weights and activations, calibrated on a representative
                dataset (line art and hints from TFRecords); float32 at the
                inputs and output, or quantised uint8 with int8_io="uint8"

Only built-in TFLite ops are allowed (no Flex ops), so the plain LiteRT
interpreter runs every export; `check_builtin_ops` verifies it.
"""

import dataclasses
import os
import re
import tempfile

from absl import logging
import keras
import numpy as np
import tensorflow as tf

from tfcolor.config import field
from tfcolor.models.generator import SIZE_MULTIPLE
from tfcolor.serving import signature
from tfcolor.serving import tflite_runner

QUANTIZE_MODES = ("none", "float16", "dynamic_int8", "int8")
INT8_IO_TYPES = ("float", "uint8")
TFLITE_SIGNATURE = "colorize"
_VERSION_RE = re.compile(r"^\d+$")


@dataclasses.dataclass(frozen=True)
class ExportConfig:
  """Settings of `python -m tfcolor.export` (each field is also its flag)."""

  model_dir: str = field("", "Training run folder (config.json + checkpoints/).")
  checkpoint: str = field("", "Checkpoint path (prefix) to export; '' = the run's latest.")
  export_dir: str = field(
      "", "SavedModel base folder: the model goes to EXPORT_DIR/<version>/ (TF "
      "Serving's layout). '' = no SavedModel.")
  version: int = field(
      0, "SavedModel version folder; 0 = the checkpoint's step, or the next free "
      "integer if that exists already.")
  tflite: str = field("", "Also write a TFLite model to this .tflite path ('' = none).")
  tflite_size: int = field(512, "Fixed square input size of the TFLite model "
                           "(multiple of 16).")
  quantize: str = field("none", "TFLite quantisation.", QUANTIZE_MODES)
  representative_data: str = field(
      "", "TFRecord glob(s) whose fixed-hint eval crops calibrate --quantize=int8.")
  representative_examples: int = field(
      64, "Examples of --representative_data used for int8 calibration.")
  web_demo: str = field(
      "", "Also write a static web demo folder here: the studio page colouring in the "
      "visitor's browser with the TFLite model (--tflite_size, --quantize), LiteRT.js "
      "(needs `npm ci`) and a sample page; '' = none.")
  int8_io: str = field(
      "float", "Inputs and output of a --quantize=int8 model: float (float32, "
      "quantised inside the model) or uint8 (quantised tensors; apply each one's "
      "scale and zero point, see docs/deployment.md).", INT8_IO_TYPES)


def validate_export_config(config):
  """Raises ValueError naming the flag for settings that cannot work."""
  if not config.model_dir:
    raise ValueError("--model_dir is required")
  if not config.export_dir and not config.tflite and not config.web_demo:
    raise ValueError("nothing to do: give --export_dir, --tflite and/or --web_demo")
  if config.version < 0:
    raise ValueError(f"--version must be >= 0, got {config.version}")
  if config.tflite_size <= 0 or config.tflite_size % SIZE_MULTIPLE:
    raise ValueError(f"--tflite_size must be a positive multiple of {SIZE_MULTIPLE}, "
                     f"got {config.tflite_size}")
  if config.quantize not in QUANTIZE_MODES:
    raise ValueError(f"--quantize must be one of {QUANTIZE_MODES}, got {config.quantize}")
  if config.quantize == "int8" and not config.representative_data:
    raise ValueError("--quantize=int8 needs --representative_data=GLOB (TFRecords "
                     "to calibrate the activation ranges on)")
  if config.int8_io not in INT8_IO_TYPES:
    raise ValueError(f"--int8_io must be one of {INT8_IO_TYPES}, got {config.int8_io}")
  if config.int8_io != "float" and config.quantize != "int8":
    raise ValueError(f"--int8_io={config.int8_io} needs --quantize=int8")
  if config.representative_examples < 1:
    raise ValueError("--representative_examples must be >= 1")
  return config


# ---------------------------------------------------------------------------
# SavedModel


def existing_versions(export_base):
  """Numeric version folders already in `export_base`, sorted."""
  if not tf.io.gfile.isdir(export_base):
    return []
  return sorted(int(name.rstrip("/")) for name in tf.io.gfile.listdir(export_base)
                if _VERSION_RE.match(name.rstrip("/")))


def choose_version(export_base, step=None, version=0):
  """The version folder to write: `version` if given, else `step`, else the next free.

  An explicit `version` that exists already is an error (exports never
  overwrite); a step that exists already falls back to the next free integer.
  """
  taken = existing_versions(export_base)
  if version:
    if version in taken:
      raise FileExistsError(f"--version={version}: {export_base}/{version} exists "
                            "already; exports never overwrite, pick another version")
    return version
  if step and step not in taken:
    return step
  return (max(taken) + 1) if taken else 1


def _new_archive():
  """An empty `keras.export.ExportArchive`; add endpoints, never `track()` the model.

  `add_endpoint` already records every variable the endpoints read. Keras
  3.15's `track(model)` records the model's Keras variables as well, which
  the SavedModel saves as separate objects: every weight was written twice
  (the default-width export took 1.7 GB instead of 0.89 GB), and the unused
  VGG19 block5 was written too.
  """
  return keras.export.ExportArchive()


def write_serving_archive(generator, path):
  """Writes the SavedModel with both signatures (see `signature`) to `path`.

  Through `keras.export.ExportArchive`, which records the variables the
  signatures use in the SavedModel's object graph: a plain
  `tf.saved_model.save` of a module holding the Keras 3 model reloaded in TF2
  Python but not in the session-based loader that TF Serving and
  `saved_model_cli run` use ("Could not find variable ..."). See
  `_new_archive` for why the generator is not `track()`ed.
  """
  module = signature.ColorizationModule(generator)
  specs = signature.input_specs()
  archive = _new_archive()
  for name, function in ((signature.SERVING_SIGNATURE, module.colorize_uint8),
                         (signature.FLOAT_SIGNATURE, module.colorize_float)):
    archive.add_endpoint(name, function, input_signature=[
        specs[signature.LINEART_KEY], specs[signature.HINTS_KEY]])
  archive.write_out(path, verbose=False)


def export_saved_model(generator, export_base, version):
  """Writes the serving SavedModel to `export_base/<version>`; returns that path."""
  final_path = os.path.join(export_base, str(version))
  if tf.io.gfile.exists(final_path):
    raise FileExistsError(f"{final_path} exists already; exports never overwrite")
  tf.io.gfile.makedirs(export_base)
  tmp_path = os.path.join(export_base, f".tmp-{version}-{os.getpid()}")
  if tf.io.gfile.exists(tmp_path):
    tf.io.gfile.rmtree(tmp_path)
  try:
    write_serving_archive(generator, tmp_path)
    tf.io.gfile.rename(tmp_path, final_path)
  except BaseException:
    if tf.io.gfile.exists(tmp_path):
      tf.io.gfile.rmtree(tmp_path)
    raise
  logging.info("Wrote SavedModel %s (signatures %s, %s)", final_path,
               signature.SERVING_SIGNATURE, signature.FLOAT_SIGNATURE)
  return final_path


# ---------------------------------------------------------------------------
# TFLite


def write_tflite_source(generator, size, path):
  """Writes the SavedModel that TFLite converts: one fixed-size float32 signature.

  Signature `TFLITE_SIGNATURE`: lineart [1, S, S, 1] and hints [1, S, S, 4] in
  the model's value ranges -> {"image": [1, S, S, 3]}. Written, like the
  serving export, through `keras.export.ExportArchive` (`_new_archive`), so
  the variables are in the SavedModel's checkpoint and the converter freezes
  them itself.
  """
  specs = [tf.TensorSpec([1, size, size, 1], tf.float32, name=signature.LINEART_KEY),
           tf.TensorSpec([1, size, size, 4], tf.float32, name=signature.HINTS_KEY)]

  def colorize(lineart, hints):
    image = generator({signature.LINEART_KEY: lineart, signature.HINTS_KEY: hints},
                      training=False)
    return {signature.IMAGE_KEY: tf.cast(image, tf.float32)}

  archive = _new_archive()
  archive.add_endpoint(TFLITE_SIGNATURE, colorize, input_signature=specs)
  archive.write_out(path, verbose=False)


def representative_dataset(files, size, num_examples):
  """A generator of int8 calibration inputs: fixed-hint eval crops of `files`."""
  # pylint: disable=import-outside-toplevel
  from tfcolor import config as config_lib
  from tfcolor import data as tfcolor_data

  data_config = config_lib.DataConfig(eval_data=files, crop_size=size,
                                      eval_mode="center_crop")
  dataset = tfcolor_data.make_eval_dataset(data_config, batch_size=1)

  def generate():
    count = 0
    for batch in dataset.take(num_examples):
      count += 1
      yield {signature.LINEART_KEY: batch["lineart"].numpy().astype(np.float32),
             signature.HINTS_KEY: batch["hints"].numpy().astype(np.float32)}
    if not count:
      raise ValueError(f"--representative_data={files}: no examples read")

  return generate


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
  _check_tflite_options(quantize, representative_data, int8_io)
  if size % SIZE_MULTIPLE:
    raise ValueError(f"TFLite size must be a multiple of {SIZE_MULTIPLE}, got {size}")
  with tempfile.TemporaryDirectory(prefix="tfcolor_tflite_") as source:
    write_tflite_source(generator, size, source)
    return convert_tflite_source(source, quantize, representative_data, int8_io)


def _check_tflite_options(quantize, representative_data, int8_io):
  if quantize not in QUANTIZE_MODES:
    raise ValueError(f"quantize must be one of {QUANTIZE_MODES}, got {quantize!r}")
  if int8_io not in INT8_IO_TYPES:
    raise ValueError(f"int8_io must be one of {INT8_IO_TYPES}, got {int8_io!r}")
  if int8_io != "float" and quantize != "int8":
    raise ValueError(f"int8_io={int8_io!r} needs quantize='int8' (the other modes "
                     "keep float activations, so their I/O is float32)")
  if quantize == "int8" and representative_data is None:
    raise ValueError("quantize='int8' needs representative_data")


def convert_tflite_source(source, quantize="none", representative_data=None,
                          int8_io="float"):
  """Converts a `write_tflite_source` SavedModel to TFLite flatbuffer bytes.

  `TFLiteConverter.from_saved_model` freezes the variables itself. Freezing
  them into a GraphDef in Python first (`convert_variables_to_constants_v2`
  + `from_concrete_functions`) gave the same model but held ~20 copies of
  the weights in memory: over 20 GB for the default-width generator (890 MB of
  weights), against a 6.1 GB process peak this way (int8 calibration: 9.7 GB;
  docs/deployment.md, Benchmark). Either way the weights end up as
  constants, not resource variables that nothing would initialise.

  Args:
    source: the SavedModel folder.
    quantize: one of QUANTIZE_MODES.
    representative_data: for int8, a callable returning an iterator of
      {"lineart", "hints"} float32 input dicts (`representative_dataset`).
    int8_io: for int8, "float" (float32 inputs and output, quantised inside
      the model) or "uint8" (quantised uint8 inputs and output; the caller
      applies each tensor's scale and zero point, as `tflite_runner` does).
  """
  _check_tflite_options(quantize, representative_data, int8_io)
  converter = tf.lite.TFLiteConverter.from_saved_model(
      source, signature_keys=[TFLITE_SIGNATURE])
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
  model_bytes = converter.convert()
  check_builtin_ops(model_bytes)
  return model_bytes


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


# ---------------------------------------------------------------------------
# Everything `python -m tfcolor.export` does


def run_export(config):
  """Loads the run's generator and writes the requested exports.

  Returns:
    dict with "saved_model" and/or "tflite" paths, "checkpoint" and "step".
  """
  # pylint: disable=import-outside-toplevel
  from tfcolor.serving import model_loading

  validate_export_config(config)
  if config.web_demo:
    from tfcolor.studio import web_demo  # pylint: disable=import-outside-toplevel
    web_demo.check_destination(config.web_demo)
  loaded = model_loading.load_generator(config.model_dir, config.checkpoint)
  result = {"checkpoint": loaded.checkpoint_path, "step": loaded.step}
  if config.export_dir:
    version = choose_version(config.export_dir, loaded.step, config.version)
    result["saved_model"] = export_saved_model(loaded.generator, config.export_dir,
                                               version)
  if config.tflite or config.web_demo:
    representative = None
    if config.quantize == "int8":
      representative = representative_dataset(
          config.representative_data, config.tflite_size, config.representative_examples)
    model_bytes = convert_tflite(loaded.generator, config.tflite_size, config.quantize,
                                 representative, config.int8_io)
  if config.tflite:
    result["tflite"] = write_tflite(config.tflite, model_bytes)
  if config.web_demo:
    io_spec = tflite_runner.TFLiteColorizer(model_content=model_bytes).io_spec()
    result["web_demo"] = web_demo.write_web_demo(config.web_demo, model_bytes, io_spec)["path"]
  return result
