"""A few dozen steps of the demo config learn to follow colour hints.

Runs `configs/demo.cfg` (its widths, losses and learning rate) on the session's
sample dataset, at 32 px crops to stay quick, and compares the generator's
output with the ground truth at the hinted pixels of a fixed held-out batch
before and after training.
"""

import os

from absl import flags
import numpy as np
import pytest

import trainer_testlib as testlib
from tfcolor import flags as tfcolor_flags
from tfcolor.training import loop

STEPS = 40


def _demo_config(model_dir, sample_dataset, *overrides):
  flag_values = flags.FlagValues()
  tfcolor_flags.define_flags(flag_values=flag_values)
  flag_values([
      "test", f"--flagfile={os.path.join(testlib.REPO_ROOT, 'configs', 'demo.cfg')}",
      f"--train_data={','.join(sample_dataset.train_files)}",
      f"--eval_data={','.join(sample_dataset.val_files + sample_dataset.test_files)}",
      f"--model_dir={model_dir}", *overrides])
  return tfcolor_flags.config_from_flags(flag_values=flag_values)


def _hinted_l1(output, batch):
  """Mean |output - ground truth| over the hinted pixels of a batch."""
  mask = batch["hints"].numpy()[..., 3:] > 0.5
  error = np.abs(output - batch["image"].numpy())
  return float(error[np.broadcast_to(mask, error.shape)].mean())


def test_demo_config_parses_and_keeps_the_paper_losses(tmp_path, sample_dataset):
  config = _demo_config(tmp_path, sample_dataset)
  assert config.model.vgg_weights == "none"  # Nothing downloads.
  assert config.data.lineart_kinds == ("xdog",)
  assert config.train.model_dir == str(tmp_path)
  assert config.loss.adversarial_loss == "bce"
  assert config.model.num_discriminators == 3


@pytest.mark.large
def test_a_few_dozen_demo_steps_lower_the_error_at_hinted_pixels(tmp_path,
                                                                sample_dataset):
  config = _demo_config(tmp_path, sample_dataset, "--crop_size=32",
                        "--global_batch_size=4", f"--train_steps={STEPS}",
                        "--log_every=10", "--image_every=1000", "--checkpoint_every=1000")
  trainer = loop.Trainer(config)
  batch = trainer.sample_batch()
  assert batch["hints"].numpy()[..., 3].sum() > 0, "the fixed batch has no hints"
  before = _hinted_l1(trainer.colorize(batch), batch)
  result = trainer.run()
  assert result.step == STEPS and not result.preempted
  after = _hinted_l1(trainer.colorize(batch), batch)
  print(f"L1 at hinted pixels: {before:.3f} before, {after:.3f} after {STEPS} steps")
  assert after < 0.75 * before, (before, after)
