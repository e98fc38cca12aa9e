"""Checks a training config can start, before anything slow happens.

Kept free of TensorFlow imports for local paths, so `python -m tfcolor.train`
reports a missing flag or an empty glob in about a second.
"""

import glob

from tfcolor import config as config_lib
from tfcolor import io_utils


def _matches(pattern):
  if "://" in pattern:  # gs://, hdfs://, ...: only TensorFlow can list these.
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    return tf.io.gfile.glob(pattern)
  return glob.glob(pattern)


def check_globs(value, flag_name):
  """Raises ValueError naming the flag and pattern when a glob matches nothing."""
  patterns = [p.strip() for p in value.split(",") if p.strip()]
  if not patterns:
    raise ValueError(f"--{flag_name} is required (a glob of TFRecord files)")
  for pattern in patterns:
    if not _matches(pattern):
      raise ValueError(f"--{flag_name}: the pattern {pattern!r} matches no files "
                       "(paths are relative to the working directory)")


def check_runnable(config):
  """Raises ValueError naming the flag for a config `train` cannot run."""
  config_lib.validate(config)
  if not config.train.model_dir:
    raise ValueError("--model_dir is required (checkpoints, logs and samples go there)")
  io_utils.check_writable_folder(config.train.model_dir, "--model_dir")
  check_globs(config.data.train_data, "train_data")
  if config.data.eval_data:
    check_globs(config.data.eval_data, "eval_data")
  return config
