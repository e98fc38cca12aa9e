"""Checks a training config can start, before anything slow happens.

Kept free of TensorFlow imports for local paths, so `python -m tfcolor.train`
reports a missing flag or an empty glob in about a second.
"""

from tfcolor import config as config_lib
from tfcolor import io_utils
from tfcolor.data.files import resolve_files


def check_runnable(config):
  """Raises ValueError naming the flag for a config `train` cannot run."""
  config_lib.validate(config)
  if not config.train.model_dir:
    raise ValueError("--model_dir is required (checkpoints, logs and samples go there)")
  io_utils.check_writable_folder(config.train.model_dir, "--model_dir")
  resolve_files(config.data.train_data, "--train_data")
  if config.data.eval_data:
    resolve_files(config.data.eval_data, "--eval_data")
  return config
