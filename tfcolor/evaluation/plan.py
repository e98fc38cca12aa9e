"""What an evaluation runs on, and whether an earlier report already answers it.

`plan_evaluation` reads the run (config.json, the checkpoint and its step),
applies the data overrides, picks the split's files and the report paths
(`model_dir/eval/<split>/<step>.json` and `.png`); `reusable_report` returns
an existing report of the same step, files and settings, so the table does
not evaluate a run twice.
"""

import dataclasses
import json
import os
from typing import Optional, Tuple

from absl import logging
import tensorflow as tf

from tfcolor import config as config_lib
from tfcolor import run_folder
from tfcolor.data.files import resolve_files
from tfcolor.evaluation import inception

REPORT_DIR = "eval"
# DataConfig fields that do not change the evaluation inputs: the files are
# recorded themselves, the others only concern training or speed.
_DATA_FIELDS_NOT_IN_SETTINGS = ("train_data", "eval_data", "shuffle_buffer",
                                "num_parallel_calls", "deterministic_train_input")


@dataclasses.dataclass(frozen=True)
class EvaluationPlan:
  """What an evaluation will run on, known before any model is built."""

  model_dir: str
  checkpoint: str
  step: Optional[int]
  config: config_lib.ExperimentConfig  # the run's, with the data overrides applied
  files: Tuple[str, ...]
  settings: dict  # everything the numbers depend on besides the weights
  report_path: str
  grid_path: str


def pick_data_overrides(data_config, given_names):
  """The fields of `data_config` whose names are in `given_names`, as a dict.

  CLIs pass the names of the flags the user set, so only those override the run.
  """
  given = set(given_names)
  return {field.name: getattr(data_config, field.name)
          for field in dataclasses.fields(data_config) if field.name in given}


def validate_eval_config(eval_config):
  """Raises ValueError naming the flag for unusable evaluation settings."""
  if eval_config.eval_batch_size < 1:
    raise ValueError(f"--eval_batch_size must be >= 1, got {eval_config.eval_batch_size}")
  if eval_config.max_eval_examples < 0:
    raise ValueError("--max_eval_examples must be >= 0 (0 = all), got "
                     f"{eval_config.max_eval_examples}")
  if eval_config.grid_rows < 0:
    raise ValueError(f"--grid_rows must be >= 0, got {eval_config.grid_rows}")
  if not 0 <= eval_config.hint_region_threshold <= 255:
    raise ValueError("--hint_region_threshold must be a grey level in 0..255, got "
                     f"{eval_config.hint_region_threshold}")
  if not eval_config.split.strip() or os.sep in eval_config.split:
    raise ValueError(f"--split must be a split name such as test, got {eval_config.split!r}")
  return eval_config


def split_files(data_config, eval_config):
  """The sorted TFRecord files to evaluate (see the module docstring)."""
  if eval_config.eval_files:
    return resolve_files(eval_config.eval_files, "--eval_files")
  first = data_config.train_data.split(",")[0].strip()
  if not first:
    raise ValueError("the run has no --train_data to find the --split files beside; "
                     "give --eval_files=GLOB")
  pattern = os.path.join(os.path.dirname(first), f"{eval_config.split}-*.tfrecord")
  files = sorted(tf.io.gfile.glob(pattern))
  if not files:
    raise ValueError(f"--split={eval_config.split}: no files match {pattern} (the folder "
                     f"of --train_data={first}); give --eval_files=GLOB, or "
                     "--train_data=GLOB for the data's current location")
  return files


def _apply_data_overrides(config, overrides):
  overrides = dict(overrides or {})
  known = {field.name for field in dataclasses.fields(config_lib.DataConfig)}
  unknown = sorted(set(overrides) - known)
  if unknown:
    raise ValueError(f"data_overrides: unknown DataConfig fields {unknown}")
  if not overrides:
    return config
  for name, value in overrides.items():
    if getattr(config.data, name) != value:
      logging.info("Evaluation overrides the run's --%s=%s with %s", name,
                   getattr(config.data, name), value)
  data = dataclasses.replace(config.data, **overrides)
  return config_lib.validate(dataclasses.replace(config, data=data))


def _settings(data_config, eval_config, files, keras_weights):
  data = {name: value for name, value in config_lib.to_dict(data_config).items()
          if name not in _DATA_FIELDS_NOT_IN_SETTINGS}
  settings = {"split": eval_config.split, "files": list(files),
              "max_eval_examples": eval_config.max_eval_examples,
              "fid_inception": eval_config.fid_inception,
              "hint_region_threshold": eval_config.hint_region_threshold,
              "data": data}
  if eval_config.fid_inception == inception.KERAS_LABEL:
    settings["fid_keras_weights"] = str(keras_weights)
  return json.loads(json.dumps(settings))  # as it reads back from the report


def plan_evaluation(model_dir, eval_config, data_overrides=None,
                    keras_weights="imagenet"):
  """Resolves the checkpoint, step, data settings, files and output paths.

  Cheap: reads config.json and the checkpoint index, globs the files; builds
  no model. Raises ValueError (or FileNotFoundError) naming the flag.
  """
  validate_eval_config(eval_config)
  config = _apply_data_overrides(run_folder.read_config(model_dir), data_overrides)
  checkpoint = run_folder.resolve_checkpoint(model_dir, eval_config.checkpoint)
  step = run_folder.checkpoint_step(checkpoint)
  files = split_files(config.data, eval_config)
  name = str(step) if step is not None else os.path.basename(checkpoint)
  folder = os.path.join(model_dir, REPORT_DIR, eval_config.split)
  return EvaluationPlan(
      model_dir=model_dir, checkpoint=checkpoint, step=step, config=config,
      files=tuple(files), settings=_settings(config.data, eval_config, files, keras_weights),
      report_path=os.path.join(folder, name + ".json"),
      grid_path=os.path.join(folder, name + ".png"))


def read_report(path):
  """A report JSON written by `evaluate`, or None if there is none (or it is unreadable)."""
  if not tf.io.gfile.exists(path):
    return None
  try:
    with tf.io.gfile.GFile(path) as f:
      report = json.load(f)
  except (json.JSONDecodeError, UnicodeDecodeError) as error:
    logging.warning("%s: unreadable evaluation report (%s); evaluating again", path, error)
    return None
  return report if isinstance(report, dict) else None


def reusable_report(plan):
  """The existing report for the plan's step and settings, or None."""
  report = read_report(plan.report_path)
  if report is None:
    return None
  if report.get("step") != plan.step or report.get("settings") != plan.settings:
    logging.info("%s was written for other settings or another step; evaluating again",
                 plan.report_path)
    return None
  return report
