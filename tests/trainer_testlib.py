"""Small configs and helpers shared by the trainer tests (tiny widths, 32 px)."""

import dataclasses
import os
import subprocess
import sys

import numpy as np

from tfcolor import config as config_lib

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# One mid block and two discriminators keep graph tracing (the slowest part of
# a short run here) quick; the structure is the same as the paper's.
TINY_MODEL = config_lib.ModelConfig(
    stem_filters=8, down_filters=(8, 16, 16, 32), num_mid_blocks=1,
    csa_hint_filters=8, csa_attention_filters=8, up_filters=(16, 16, 8, 8),
    vgg_weights="none", num_discriminators=2, discriminator_filters=(8, 8, 8, 8))

# Flag lines of the same tiny run, for CLI and multi-worker subprocesses.
TINY_FLAGS = [
    "--crop_size=32", "--lineart_kinds=xdog", "--lineart_probs=1.0",
    "--shuffle_buffer=16", "--vgg_weights=none", "--stem_filters=8",
    "--down_filters=8,16,16,32", "--num_mid_blocks=1", "--csa_hint_filters=8",
    "--csa_attention_filters=8", "--up_filters=16,16,8,8", "--num_discriminators=2",
    "--discriminator_filters=8,8,8,8", "--num_samples=2",
]


def tiny_config(model_dir, train_files, **train_overrides):
  """An ExperimentConfig of a tiny 32-px run on `train_files`."""
  train = dict(model_dir=str(model_dir), train_steps=2, global_batch_size=2,
               checkpoint_every=1000, log_every=1000, image_every=1000, num_samples=2)
  train.update(train_overrides)
  return config_lib.ExperimentConfig(
      data=config_lib.DataConfig(
          train_data=",".join(train_files), crop_size=32, lineart_kinds=("xdog",),
          lineart_probs=(1.0,), shuffle_buffer=16),
      model=TINY_MODEL,
      train=config_lib.TrainConfig(**train))


def replace_train(config, **overrides):
  return dataclasses.replace(config, train=dataclasses.replace(config.train, **overrides))


def random_batch(batch_size, size=32, seed=0, hint_fraction=0.05):
  """A batch dict in the model's value ranges (numpy float32)."""
  rng = np.random.default_rng(seed)
  image = rng.uniform(-1, 1, (batch_size, size, size, 3)).astype(np.float32)
  lineart = np.where(rng.uniform(size=(batch_size, size, size, 1)) < 0.1, -1.0,
                     1.0).astype(np.float32)
  mask = (rng.uniform(size=(batch_size, size, size, 1)) < hint_fraction).astype(np.float32)
  hints = np.concatenate([image * mask, mask], axis=-1)
  return {"image": image, "lineart": lineart, "hints": hints}


def model_variables(gan):
  """name -> numpy value of every generator and discriminator variable."""
  return {v.path: np.array(v) for v in gan.generator.weights + gan.discriminator.weights}


def optimizer_variables(gan):
  """name -> numpy value of both optimizers' variables (incl. iterations, lr)."""
  values = {}
  for prefix, optimizer in (("g", gan.g_optimizer), ("d", gan.d_optimizer)):
    for index, variable in enumerate(optimizer.variables):
      # Not variable.path: optimizer names get a suffix per instance (adam_2).
      values[f"{prefix}/{index}/{variable.name}"] = np.array(variable)
  return values


def python_env():
  """Environment for subprocesses: repo importable, quiet, CPU only."""
  env = dict(os.environ)
  env["PYTHONPATH"] = REPO_ROOT + os.pathsep + env.get("PYTHONPATH", "")
  env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  env["CUDA_VISIBLE_DEVICES"] = ""
  env.pop("TF_CONFIG", None)
  return env


def run_cli(args, timeout=120, env=None):
  """Runs `python -m tfcolor.train ARGS` from the repo root; returns CompletedProcess."""
  return subprocess.run([sys.executable, "-m", "tfcolor.train", *args], cwd=REPO_ROOT,
                        env=env or python_env(), capture_output=True, text=True,
                        timeout=timeout, check=False)
