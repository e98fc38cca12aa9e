"""Tiny trained-looking runs for the evaluation and table tests.

A run here is what the trainer leaves behind, without training: config.json
and a checkpoint of a freshly initialised tiny generator at a given step.
"""

import dataclasses

from tfcolor import run_folder
from tfcolor.models import factory
from tfcolor.training import checkpointing
from trainer_testlib import tiny_config


def make_run(model_dir, train_files, generator="csa", step=5, seed=0, **data_overrides):
  """Writes model_dir/config.json and a generator checkpoint at `step`; returns the config."""
  import keras  # pylint: disable=import-outside-toplevel
  config = tiny_config(model_dir, train_files)
  config = dataclasses.replace(
      config, model=dataclasses.replace(config.model, generator=generator),
      data=dataclasses.replace(config.data, **data_overrides))
  keras.utils.set_random_seed(seed)
  generator_model = factory.build_generator(config.model)
  checkpointer = checkpointing.Checkpointer(str(model_dir), keep=1,
                                            generator=generator_model)
  checkpointer.save(step)
  run_folder.write_config(str(model_dir), config)
  return config


class TinyFeatures:
  """A 6-d stand-in for Inception (per-channel mean and std), so FID is instant.

  Behaves like `tfcolor.evaluation.inception` extractors: uint8 images (a
  batch or a list) in, (B, D) float32 out.
  """

  comparable_with_papers = False
  name = "tiny"

  def __init__(self):
    self.calls = []  # number of images per call

  def __call__(self, images):
    import numpy as np  # pylint: disable=import-outside-toplevel
    features = []
    for image in images:
      pixels = np.asarray(image, np.float64).reshape(-1, 3)
      features.append(np.concatenate([pixels.mean(0), pixels.std(0)]))
    self.calls.append(len(features))
    return np.asarray(features, np.float32)
