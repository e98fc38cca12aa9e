"""Exports a trained generator: SavedModel for TF Serving, TFLite for devices.

`run_export(ExportConfig)` is what `python -m tfcolor.export` does: load the
run's generator (`model_loading`), then write the serving SavedModel
(`saved_model_export`) and/or the TFLite model (`tflite_export`): its source
SavedModel is written here, the Keras model dropped, and the conversion runs
in a child process (`tflite_process.convert_tflite_in_child`), so the
conversion's memory peak is not added to the Keras model's.
"""

import dataclasses
import os
import tempfile

from absl import logging

from tfcolor import config as config_lib
from tfcolor.config import field
from tfcolor.serving import precision as precision_lib
from tfcolor.serving import saved_model_export
from tfcolor.serving import tflite_export
from tfcolor.serving import tflite_process


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
  precision: str = field(
      "float32", "Compute precision of the SavedModel (the uint8 signature is the "
      "same): bfloat16 runs the convolutions in bfloat16 with half-size weights "
      "(instance norm, VGG hint feature and tanh head stay float32); see "
      "docs/deployment.md for its difference from float32. TFLite uses --quantize.",
      precision_lib.PRECISIONS)
  tflite: str = field("", "Also write a TFLite model to this .tflite path ('' = none).")
  tflite_size: int = field(512, "Fixed square input size of the TFLite model "
                           "(multiple of 16).")
  quantize: str = field("none", "TFLite quantisation.", tflite_export.QUANTIZE_MODES)
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
      "scale and zero point, see docs/deployment.md).", tflite_export.INT8_IO_TYPES)


def validate_export_config(config):
  """Raises ValueError naming the flag for settings that cannot work."""
  if not config.model_dir:
    raise ValueError("--model_dir is required")
  if not config.export_dir and not config.tflite and not config.web_demo:
    raise ValueError("nothing to do: give --export_dir, --tflite and/or --web_demo")
  if config.version < 0:
    raise ValueError(f"--version must be >= 0, got {config.version}")
  precision_lib.check_precision(config.precision)
  if config.precision != "float32" and not config.export_dir:
    raise ValueError(f"--precision={config.precision} applies to the SavedModel: give "
                     "--export_dir (a .tflite model's precision is --quantize)")
  config_lib.check_size("--tflite_size", config.tflite_size)
  tflite_export.check_tflite_options(config.quantize, bool(config.representative_data),
                                     config.int8_io)
  if config.representative_examples < 1:
    raise ValueError("--representative_examples must be >= 1")
  return config


def run_export(config, web_demo_writer=None):
  """Loads the run's generator and writes the requested exports.

  `web_demo_writer` writes `--web_demo`: the module `tfcolor.studio.web_demo`
  (`check_destination`, `write_web_demo`), passed in by the caller because the
  studio sits above serving in the import order.

  Returns:
    dict with "saved_model" and/or "tflite" paths, "checkpoint" and "step".
  """
  # pylint: disable=import-outside-toplevel
  from tfcolor.serving import model_loading
  from tfcolor.serving import tflite_runner

  validate_export_config(config)
  if config.web_demo:
    if web_demo_writer is None:
      raise ValueError("--web_demo: this caller cannot write a web demo (run "
                       "python -m tfcolor.export)")
    web_demo_writer.check_destination(config.web_demo)
  loaded = model_loading.load_generator(config.model_dir, config.checkpoint)
  result = {"checkpoint": loaded.checkpoint_path, "step": loaded.step}
  if config.export_dir:
    version = saved_model_export.choose_version(config.export_dir, loaded.step,
                                                config.version)
    generator = precision_lib.generator_in_precision(
        loaded.generator, loaded.config.model, config.precision)
    result["saved_model"] = saved_model_export.export_saved_model(
        generator, config.export_dir, version)
    del generator
  if config.tflite or config.web_demo:
    with tempfile.TemporaryDirectory(prefix="tfcolor_tflite_") as work:
      source = os.path.join(work, "source")
      tflite_export.write_tflite_source(loaded.generator, config.tflite_size, source,
                                        config.quantize)
      del loaded  # The conversion runs in a child process: free what it does not need.
      tflite_process.release_memory()
      path = tflite_process.convert_tflite_in_child(
          source, config.tflite or os.path.join(work, "model.tflite"), config.quantize,
          _representative(config), config.int8_io)
      if config.web_demo:
        with open(path, "rb") as f:
          model_bytes = f.read()
  if config.tflite:
    result["tflite"] = config.tflite
    logging.info("Wrote TFLite model %s (%.1f MB)", config.tflite,
                 os.path.getsize(config.tflite) / 1e6)
  if config.web_demo:
    io_spec = tflite_runner.TFLiteColorizer(model_content=model_bytes).io_spec()
    result["web_demo"] = web_demo_writer.write_web_demo(
        config.web_demo, model_bytes, io_spec)["path"]
  return result


def _representative(config):
  """The int8 calibration inputs of `config` (None unless --quantize=int8)."""
  if config.quantize != "int8":
    return None
  return tflite_export.representative_dataset(
      config.representative_data, config.tflite_size, config.representative_examples)
