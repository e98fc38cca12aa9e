"""A trained run's generator, rebuilt from `model_dir/config.json` and a checkpoint.

The trainer (`tfcolor.training`) writes `model_dir/config.json` (the run's
`ExperimentConfig`) and `model_dir/checkpoints/` (a `tf.train.Checkpoint`
holding `generator=`, among others). Only the generator is restored here; its
VGG19 weights are inside the checkpoint, so the VGG is built with random
weights and then overwritten.
"""

import dataclasses
import json
import os
import typing

from absl import logging
import tensorflow as tf

from tfcolor import checkpoint_recovery
from tfcolor import config as config_lib
from tfcolor.models import factory
from tfcolor.training import checkpointing


def _section_from_dict(cls, values, path):
  known = {f.name: f for f in dataclasses.fields(cls)}
  unknown = sorted(set(values) - set(known))
  if unknown:
    logging.warning("%s: ignoring unknown %s fields %s (written by a newer "
                    "version?)", path, cls.__name__, unknown)
  kwargs = {}
  for name, value in values.items():
    if name not in known:
      continue
    if typing.get_origin(known[name].type) is tuple:
      value = tuple(value)
    kwargs[name] = value
  return cls(**kwargs)


def config_from_dict(values, path="config.json"):
  """`tfcolor.config.to_dict` in reverse: JSON lists become tuples again.

  Missing sections and fields keep their defaults; unknown ones are logged and
  ignored.
  """
  if not isinstance(values, dict):
    raise ValueError(f"{path}: expected a JSON object, got {type(values).__name__}")
  sections = {name: _section_from_dict(cls, values.get(name, {}), path)
              for name, cls in config_lib.SECTIONS.items()}
  return config_lib.ExperimentConfig(**sections)


def read_config(model_dir):
  """The `ExperimentConfig` of a run, from `model_dir/config.json`."""
  path = os.path.join(model_dir, checkpointing.CONFIG_FILE)
  if not tf.io.gfile.exists(path):
    raise FileNotFoundError(f"--model_dir={model_dir} has no {checkpointing.CONFIG_FILE}; "
                            "is it a tfcolor training run?")
  with tf.io.gfile.GFile(path) as f:
    try:
      values = json.load(f)
    except json.JSONDecodeError as error:
      raise ValueError(f"{path} is not valid JSON: {error}") from None
  return config_from_dict(values, path)


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
  directory = os.path.join(model_dir, checkpointing.CHECKPOINT_DIR)
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


@dataclasses.dataclass(frozen=True)
class LoadedGenerator:
  """A restored generator and where it came from."""

  generator: object
  config: config_lib.ExperimentConfig
  checkpoint_path: str
  step: typing.Optional[int]


def load_generator(model_dir, checkpoint=""):
  """Builds the run's generator and restores its weights from a checkpoint.

  Args:
    model_dir: a training run's folder (config.json, checkpoints/).
    checkpoint: a checkpoint path (prefix); '' = the run's latest.

  Returns:
    `LoadedGenerator`.
  """
  config = read_config(model_dir)
  path = resolve_checkpoint(model_dir, checkpoint)
  model_config = dataclasses.replace(config.model, vgg_weights="none")
  generator = factory.build_generator(model_config)
  try:
    status = tf.train.Checkpoint(generator=generator).read(path)
    status.expect_partial()
    status.assert_existing_objects_matched()
  except (AssertionError,) + checkpoint_recovery.READ_ERRORS as error:
    raise ValueError(f"checkpoint {path} does not match the generator described by "
                     f"{model_dir}/config.json: {error}") from None
  step = checkpoint_step(path)
  logging.info("Restored the generator from %s (step %s)", path, step)
  return LoadedGenerator(generator=generator, config=config, checkpoint_path=path,
                         step=step)
