"""--lr_decay_fraction: both optimizers follow the schedule, also after a resume."""

import keras
import pytest
import tensorflow as tf

from tfcolor import config as config_lib
from tfcolor.training import schedules


def _train_config(**overrides):
  values = dict(train_steps=400, learning_rate=1e-3, lr_decay_fraction=0.5)
  values.update(overrides)
  return config_lib.TrainConfig(**values)


def _optimizer(train_config):
  return keras.optimizers.Adam(learning_rate=schedules.learning_rate(train_config))


def _rate_at(optimizer, iterations):
  optimizer.iterations.assign(iterations)
  return float(optimizer.learning_rate)


def test_rate_is_constant_then_falls_linearly_to_zero():
  optimizer = _optimizer(_train_config())
  optimizer.build([tf.Variable(0.0)])
  # Steps 1..200 (iterations 0..199 before them) keep the rate; then it falls by
  # 1e-3 / 200 per step and the last step (iterations 399) uses 1/200 of it.
  assert _rate_at(optimizer, 0) == pytest.approx(1e-3)
  assert _rate_at(optimizer, 200) == pytest.approx(1e-3)
  assert _rate_at(optimizer, 300) == pytest.approx(0.5e-3)
  assert _rate_at(optimizer, 399) == pytest.approx(1e-3 / 200)
  assert _rate_at(optimizer, 400) == pytest.approx(0.0)
  assert _rate_at(optimizer, 450) == pytest.approx(0.0)


def test_zero_fraction_keeps_the_rate_constant():
  optimizer = _optimizer(_train_config(lr_decay_fraction=0.0))
  optimizer.build([tf.Variable(0.0)])
  assert _rate_at(optimizer, 399) == pytest.approx(1e-3)


def test_restored_optimizer_continues_the_schedule(tmp_path):
  variable = tf.Variable(1.0)
  optimizer = _optimizer(_train_config())
  optimizer.build([variable])
  for _ in range(3):
    optimizer.apply([tf.constant(1.0)], [variable])
  optimizer.iterations.assign(350)
  path = tf.train.Checkpoint(optimizer=optimizer).write(str(tmp_path / "ckpt"))

  resumed = _optimizer(_train_config())
  resumed.build([tf.Variable(1.0)])
  assert float(resumed.learning_rate) == pytest.approx(1e-3)
  tf.train.Checkpoint(optimizer=resumed).read(path).assert_consumed()
  assert int(resumed.iterations) == 350
  assert float(resumed.learning_rate) == pytest.approx(0.25e-3)


def test_fraction_outside_zero_one_is_rejected_naming_the_flag():
  with pytest.raises(ValueError, match="--lr_decay_fraction"):
    config_lib.validate(config_lib.ExperimentConfig(
        train=_train_config(lr_decay_fraction=1.5)))
