"""A tiny trained-run stand-in for the deployment tests (tiny widths, random weights)."""

import os

import numpy as np
import tensorflow as tf

from tfcolor import config as config_lib
from tfcolor.models import factory
from tfcolor.training import checkpointing
from model_testlib import TINY_MODEL  # re-exported to the export tests

STEP = 7


def make_model_dir(model_dir, step=STEP, seed=0):
  """Writes config.json + a checkpoint in the trainer's layout; returns the generator."""
  tf.keras.utils.set_random_seed(seed)
  generator = factory.build_generator(TINY_MODEL)
  config = config_lib.ExperimentConfig(
      model=TINY_MODEL, train=config_lib.TrainConfig(model_dir=str(model_dir)))
  checkpointing.write_config(str(model_dir), config)
  step_variable = tf.Variable(step, dtype=tf.int64, name="step")
  checkpoint = tf.train.Checkpoint(step=step_variable, generator=generator)
  manager = tf.train.CheckpointManager(
      checkpoint, os.path.join(str(model_dir), checkpointing.CHECKPOINT_DIR),
      max_to_keep=2)
  manager.save(checkpoint_number=step)
  return generator


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
