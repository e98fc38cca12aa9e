"""A tiny trained-run stand-in for the deployment tests (tiny widths, random weights).

`shared_run` makes the run and its exports once per pytest process: the export,
TFLite and colorize tests read the same SavedModel and .tflite files instead of
exporting their own (each export takes seconds).
"""

import os

import numpy as np
import tensorflow as tf

from tfcolor import config as config_lib
from tfcolor import run_folder
from tfcolor.models import factory
from model_testlib import TINY_MODEL  # re-exported to the export tests

STEP = 7


def make_model_dir(model_dir, step=STEP, seed=0):
  """Writes config.json + a checkpoint in the trainer's layout; returns the generator."""
  tf.keras.utils.set_random_seed(seed)
  generator = factory.build_generator(TINY_MODEL)
  config = config_lib.ExperimentConfig(
      model=TINY_MODEL, train=config_lib.TrainConfig(model_dir=str(model_dir)))
  run_folder.write_config(str(model_dir), config)
  step_variable = tf.Variable(step, dtype=tf.int64, name="step")
  checkpoint = tf.train.Checkpoint(step=step_variable, generator=generator)
  manager = tf.train.CheckpointManager(
      checkpoint, os.path.join(str(model_dir), run_folder.CHECKPOINT_DIR),
      max_to_keep=2)
  manager.save(checkpoint_number=step)
  return generator


class SharedRun:
  """One tiny run (`make_model_dir`) under `root`, with its exports made on first use."""

  TFLITE_SIZE = 32

  def __init__(self, root):
    # pylint: disable=import-outside-toplevel
    from tfcolor.serving import export, tflite_export
    self._export = export
    self._tflite_export = tflite_export
    self.root = root
    self.model_dir = str(root / "run")
    self.generator = make_model_dir(self.model_dir)
    self._export_result = None
    self._bfloat16_result = None
    self._tflite = {}

  @property
  def export_result(self):
    """`run_export`'s result for the run exported to `root/serving` (version STEP)."""
    if self._export_result is None:
      self._export_result = self._export.run_export(self._export.ExportConfig(
          model_dir=self.model_dir, export_dir=str(self.root / "serving")))
    return self._export_result

  @property
  def saved_model(self):
    return self.export_result["saved_model"]

  @property
  def saved_model_bfloat16(self):
    """The run exported with --precision=bfloat16 to `root/serving_bfloat16`."""
    if self._bfloat16_result is None:
      self._bfloat16_result = self._export.run_export(self._export.ExportConfig(
          model_dir=self.model_dir, export_dir=str(self.root / "serving_bfloat16"),
          precision="bfloat16"))
    return self._bfloat16_result["saved_model"]

  def tflite_bytes(self, quantize="none"):
    """The float-I/O TFLite model at TFLITE_SIZE (not int8: that needs calibration)."""
    if quantize not in self._tflite:
      self._tflite[quantize] = self._tflite_export.convert_tflite(
          self.generator, self.TFLITE_SIZE, quantize)
    return self._tflite[quantize]

  def tflite_path(self, quantize="none"):
    path = str(self.root / f"model_{quantize}.tflite")
    if not os.path.exists(path):
      self._tflite_export.write_tflite(path, self.tflite_bytes(quantize))
    return path


_SHARED = {}


def shared_run(tmp_path_factory):
  """The process-wide `SharedRun` (tests must not modify its files)."""
  if "run" not in _SHARED:
    _SHARED["run"] = SharedRun(tmp_path_factory.mktemp("shared_run"))
  return _SHARED["run"]


def random_inputs(batch_size, height, width, seed=0, hint_fraction=0.05):
  """uint8 line art (B, H, W, 1) and RGBA hints (B, H, W, 4) for the serving inputs."""
  rng = np.random.default_rng(seed)
  lineart = np.where(rng.uniform(size=(batch_size, height, width, 1)) < 0.1, 0,
                     255).astype(np.uint8)
  lineart = np.clip(lineart.astype(np.int32) + rng.integers(-20, 20, lineart.shape),
                    0, 255).astype(np.uint8)
  hints = rng.integers(0, 256, (batch_size, height, width, 4)).astype(np.uint8)
  hinted = rng.uniform(size=(batch_size, height, width)) < hint_fraction
  hints[..., 3] = np.where(hinted, rng.integers(1, 256, hinted.shape), 0)
  return lineart, hints


def keras_reference(generator, lineart, hints):
  """The Keras generator on the same inputs, padded like the serving module."""
  _, height, width, _ = lineart.shape
  pad_h, pad_w = (-height) % 16, (-width) % 16
  lineart = np.pad(lineart, [(0, 0), (0, pad_h), (0, pad_w), (0, 0)],
                   constant_values=255)
  hints = np.pad(hints, [(0, 0), (0, pad_h), (0, pad_w), (0, 0)])
  mask = (hints[..., 3:4] > 0).astype(np.float32)
  model_hints = np.concatenate(
      [(hints[..., :3].astype(np.float32) / 127.5 - 1) * mask, mask], -1)
  model_lineart = lineart.astype(np.float32) / 127.5 - 1
  image = generator({"lineart": model_lineart, "hints": model_hints}, training=False)
  return np.asarray(image)[:, :height, :width]
