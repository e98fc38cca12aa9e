"""Exports a trained generator: SavedModel for TF Serving, TFLite for devices.

SavedModel: `export_base/<version>/`, the layout TF Serving watches (it loads
the highest numeric version). The model is written to a hidden temporary
folder in `export_base` and renamed into place, so TF Serving never sees half
a model and a crash leaves no numeric folder behind.

TFLite: one fixed input size (a multiple of 16), float32 inputs and output in
the model's value ranges (line art [1, S, S, 1] and hints [1, S, S, 4] in
[-1, 1], image [1, S, S, 3] in [-1, 1]); `tflite_runner` does the uint8
conversions, padding and resizing around it. Quantisation modes:

  none          float32 weights and activations
  float16       float16 weights, float32 compute
  dynamic_int8  int8 weights, activations quantised on the fly
  int8          int8 weights and activations, calibrated on a representative
                dataset (line art and hints from TFRecords); float32 at the
                inputs and output

Only built-in TFLite ops are allowed (no Flex ops), so the plain LiteRT
interpreter runs every export; `check_builtin_ops` verifies it.
"""

import dataclasses
import os
import re
import shutil

from absl import logging
import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.framework import convert_to_constants  # pylint: disable=g-direct-tensorflow-import

from tfcolor.config import field
from tfcolor.models.generator import SIZE_MULTIPLE
from tfcolor.serving import signature
from tfcolor.serving import tflite_runner

QUANTIZE_MODES = ("none", "float16", "dynamic_int8", "int8")
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


def validate_export_config(config):
  """Raises ValueError naming the flag for settings that cannot work."""
  if not config.model_dir:
    raise ValueError("--model_dir is required")
  if not config.export_dir and not config.tflite:
    raise ValueError("nothing to do: give --export_dir and/or --tflite")
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


def write_serving_archive(generator, path):
  """Writes the SavedModel with both signatures (see `signature`) to `path`.

  Through `keras.export.ExportArchive`, which records every generator variable
  in the SavedModel's object graph: a plain `tf.saved_model.save` of a module
  holding the Keras 3 model reloaded in TF2 Python but not in the session-based
  loader that TF Serving and `saved_model_cli run` use ("Could not find
  variable ...").
  """
  module = signature.ColorizationModule(generator)
  specs = signature.input_specs()
  archive = keras.export.ExportArchive()
  archive.track(generator)
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


def _tflite_function(generator, size):
  """The generator at a fixed size, float32 I/O, weights frozen into constants.

  Frozen by hand: converting the Keras 3 generator's live function kept its
  weights as TFLite resource variables that nothing initialises (NaN output).
  The frozen graph is wrapped again so the TFLite model keeps a signature with
  named inputs ("lineart", "hints") and output ("image").
  """
  specs = [tf.TensorSpec([1, size, size, 1], tf.float32, name=signature.LINEART_KEY),
           tf.TensorSpec([1, size, size, 4], tf.float32, name=signature.HINTS_KEY)]

  @tf.function(input_signature=specs)
  def live(lineart, hints):
    image = generator({signature.LINEART_KEY: lineart, signature.HINTS_KEY: hints},
                      training=False)
    return tf.cast(image, tf.float32)

  frozen = convert_to_constants.convert_variables_to_constants_v2(
      live.get_concrete_function())
  holder = tf.Module()

  @tf.function(input_signature=specs)
  def colorize(lineart, hints):
    image = tf.nest.flatten(frozen(lineart=lineart, hints=hints))[0]
    return {signature.IMAGE_KEY: image}

  holder.colorize = colorize
  return holder, colorize.get_concrete_function()


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


def convert_tflite(generator, size, quantize="none", representative_data=None):
  """The generator as TFLite flatbuffer bytes at `size` x `size`.

  Args:
    generator: a Keras `ColorizationGenerator`.
    size: fixed input height and width (multiple of 16).
    quantize: one of QUANTIZE_MODES.
    representative_data: for int8, a callable returning an iterator of
      {"lineart", "hints"} float32 input dicts (`representative_dataset`).
  """
  if quantize not in QUANTIZE_MODES:
    raise ValueError(f"quantize must be one of {QUANTIZE_MODES}, got {quantize!r}")
  if size % SIZE_MULTIPLE:
    raise ValueError(f"TFLite size must be a multiple of {SIZE_MULTIPLE}, got {size}")
  holder, function = _tflite_function(generator, size)
  converter = tf.lite.TFLiteConverter.from_concrete_functions([function], holder)
  converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
  if quantize == "float16":
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
  elif quantize == "dynamic_int8":
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
  elif quantize == "int8":
    if representative_data is None:
      raise ValueError("quantize='int8' needs representative_data")
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_data
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
                                           tf.lite.OpsSet.TFLITE_BUILTINS]
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
  loaded = model_loading.load_generator(config.model_dir, config.checkpoint)
  result = {"checkpoint": loaded.checkpoint_path, "step": loaded.step}
  if config.export_dir:
    version = choose_version(config.export_dir, loaded.step, config.version)
    result["saved_model"] = export_saved_model(loaded.generator, config.export_dir,
                                               version)
  if config.tflite:
    representative = None
    if config.quantize == "int8":
      representative = representative_dataset(
          config.representative_data, config.tflite_size, config.representative_examples)
    model_bytes = convert_tflite(loaded.generator, config.tflite_size, config.quantize,
                                 representative)
    result["tflite"] = write_tflite(config.tflite, model_bytes)
  return result
