"""A training run's folder: where its files live, and its config.json.

  model_dir/config.json     the run's ExperimentConfig (`config.to_dict`)
  model_dir/checkpoints/    `tf.train.CheckpointManager` checkpoints
  model_dir/samples/        sample grids (step_000100.png, final.png)

The trainer writes these; evaluation and serving read them. Both sides use
this module (and `tfcolor.config`), so neither imports the other.
"""

import json
import os

import tensorflow as tf

from tfcolor import checkpoint_recovery
from tfcolor import config as config_lib
from tfcolor import io_utils

CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"
SAMPLES_DIR = "samples"


def config_path(model_dir):
  return os.path.join(model_dir, CONFIG_FILE)


def write_config(model_dir, config):
  """Writes model_dir/config.json atomically (a crash leaves the old one)."""
  io_utils.atomic_write_json(config_path(model_dir), config_lib.to_dict(config))


def read_config_values(model_dir):
  """model_dir/config.json as written (a dict of sections), not yet typed.

  Raises:
    FileNotFoundError: the run has no config.json.
    ValueError: the file is not a JSON object.
  """
  path = config_path(model_dir)
  if not tf.io.gfile.exists(path):
    raise FileNotFoundError(f"--model_dir={model_dir} has no {CONFIG_FILE}; "
                            "is it a tfcolor training run?")
  with tf.io.gfile.GFile(path) as f:
    try:
      values = json.load(f)
    except json.JSONDecodeError as error:
      raise ValueError(f"{path} is not valid JSON: {error}") from None
  if not isinstance(values, dict):
    raise ValueError(f"{path}: expected a JSON object, got {type(values).__name__}")
  return values


def read_config(model_dir):
  """The `ExperimentConfig` of a run, from model_dir/config.json."""
  return config_lib.from_dict(read_config_values(model_dir), config_path(model_dir))


def checkpoint_dir(model_dir):
  return os.path.join(model_dir, CHECKPOINT_DIR)


def resolve_checkpoint(model_dir, checkpoint=""):
  """The checkpoint path to load, checked to read completely.

  `checkpoint` if given (an error names it when it does not read), else the
  run's newest readable checkpoint: newer damaged ones are skipped with a
  warning (`tfcolor.checkpoint_recovery`, the trainer's rule too).
  """
  if checkpoint:
    if not tf.io.gfile.exists(checkpoint + ".index"):
      raise FileNotFoundError(f"--checkpoint={checkpoint}: no such checkpoint "
                              f"({checkpoint}.index is missing)")
    try:
      checkpoint_recovery.check_readable(checkpoint)
    except checkpoint_recovery.UnreadableCheckpointError as error:
      raise ValueError(f"--checkpoint={checkpoint}: {error}") from None
    return checkpoint
  directory = checkpoint_dir(model_dir)
  path, _ = checkpoint_recovery.newest_readable(directory)
  if path is None:
    raise FileNotFoundError(f"--model_dir={model_dir}: no checkpoint in {directory}")
  return path


def checkpoint_step(path):
  """The training step a checkpoint was saved at (its `step` variable), or None."""
  reader = tf.train.load_checkpoint(path)
  for key in reader.get_variable_to_shape_map():
    if key.startswith("step/"):
      return int(reader.get_tensor(key))
  return None


def sample_path(model_dir, step=None):
  """model_dir/samples/step_000123.png, or final.png when step is None."""
  name = "final.png" if step is None else f"step_{step:06d}.png"
  return os.path.join(model_dir, SAMPLES_DIR, name)
