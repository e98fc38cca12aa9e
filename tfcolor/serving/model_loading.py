"""A trained run's generator, rebuilt from `model_dir/config.json` and a checkpoint.

The trainer writes `model_dir/config.json` (the run's `ExperimentConfig`) and
`model_dir/checkpoints/` (a `tf.train.Checkpoint` holding `generator=`, among
others; `tfcolor.run_folder` knows the layout). Only the generator is restored here; its
VGG19 weights are inside the checkpoint, so the VGG is built with random
weights and then overwritten.
"""

import dataclasses
import typing

from absl import logging
import tensorflow as tf

from tfcolor import checkpoint_recovery
from tfcolor import config as config_lib
from tfcolor import run_folder
from tfcolor.models import factory


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
  config = run_folder.read_config(model_dir)
  path = run_folder.resolve_checkpoint(model_dir, checkpoint)
  model_config = dataclasses.replace(config.model, vgg_weights="none")
  generator = factory.build_generator(model_config)
  try:
    status = tf.train.Checkpoint(generator=generator).read(path)
    status.expect_partial()
    status.assert_existing_objects_matched()
  except (AssertionError,) + checkpoint_recovery.READ_ERRORS as error:
    raise ValueError(f"checkpoint {path} does not match the generator described by "
                     f"{model_dir}/config.json: {error}") from None
  step = run_folder.checkpoint_step(path)
  logging.info("Restored the generator from %s (step %s)", path, step)
  return LoadedGenerator(generator=generator, config=config, checkpoint_path=path,
                         step=step)
