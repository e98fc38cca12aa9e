"""Strategies: two mirrored replicas train exactly like one device on the same batch.

The two replicas are the two logical CPUs that `tests/conftest.py` configures.
"""

import numpy as np
import pytest
import tensorflow as tf

import trainer_testlib as testlib
from tfcolor.training import distribution
from tfcolor.training import loop

# tf.data functions stay traced under run_functions_eagerly; TF warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Even though the")


def _fixed_batches(examples):
  """dataset_fn giving every pipeline the same 4 examples, split by batch size."""

  def dataset_fn(data_config, batch_size, seed=0, input_context=None):
    del data_config, seed, input_context
    return tf.data.Dataset.from_tensor_slices(examples).batch(batch_size).repeat()

  return dataset_fn


def _two_cpus():
  cpus = tf.config.list_logical_devices("CPU")
  if len(cpus) < 2:
    pytest.skip("needs the two logical CPUs of tests/conftest.py")
  return [cpus[0].name, cpus[1].name]


@pytest.fixture
def eager_functions():
  """Runs the loop's tf.functions eagerly: same code, no ~20 s trace per strategy.

  (The traced path is covered by the CLI, multi-worker and demo tests.)
  """
  tf.config.run_functions_eagerly(True)
  yield
  tf.config.run_functions_eagerly(False)


@pytest.mark.large
def test_mirrored_on_two_replicas_matches_one_device(tmp_path, sample_dataset,
                                                      eager_functions):
  del eager_functions
  examples = testlib.random_batch(4, seed=3)
  results = {}
  for name, strategy in (
      ("one_device", tf.distribute.OneDeviceStrategy("/cpu:0")),
      ("mirrored", tf.distribute.MirroredStrategy(_two_cpus()))):
    config = testlib.tiny_config(tmp_path / name, sample_dataset.train_files,
                                 train_steps=1, global_batch_size=4)
    trainer = loop.Trainer(config, strategy=strategy,
                           dataset_fn=_fixed_batches(examples))
    assert trainer.per_replica_batch_size == 4 // strategy.num_replicas_in_sync
    results["initial"] = testlib.model_variables(trainer.gan)  # Same seed, both.
    result = trainer.run()
    assert result.step == 1
    results[name] = (testlib.model_variables(trainer.gan), result.metrics)
    if name == "mirrored":  # Both replicas hold the same updated weights.
      for variable in trainer.gan.generator.trainable_variables[:3]:
        first, second = trainer.strategy.experimental_local_results(variable.value)
        np.testing.assert_array_equal(first.numpy(), second.numpy())

  (one_vars, one_metrics), (mirrored_vars, mirrored_metrics) = (
      results["one_device"], results["mirrored"])
  assert one_vars.keys() == mirrored_vars.keys()
  # Adam's first step moves a weight by lr * g / (|g| + eps): +-lr wherever
  # |g| >> eps. Where |g| is near eps (e.g. biases of convs followed by instance
  # norm, whose true gradient is 0) the step is rounding noise amplified by Adam
  # and differs between any two summation orders; compare the rest closely.
  learning_rate = testlib.tiny_config("unused", ["unused"]).train.learning_rate
  compared = total = 0
  for path, initial in results["initial"].items():
    step_one = one_vars[path] - initial
    step_mirrored = mirrored_vars[path] - initial
    signal = ((np.abs(step_one) > 0.9 * learning_rate)
              | (np.abs(step_mirrored) > 0.9 * learning_rate))
    np.testing.assert_allclose(step_mirrored[signal], step_one[signal], rtol=1e-3,
                               atol=1e-6, err_msg=path)
    assert np.all(np.abs(step_mirrored) <= learning_rate * 1.01), path
    if np.any(step_one):  # Trainable (the frozen VGG19 does not move).
      compared += int(signal.sum())
      total += signal.size
  assert compared > 0.5 * total, (compared, total)  # ~73% here.
  for name, value in one_metrics.items():  # Global-batch values, not per replica.
    assert mirrored_metrics[name] == pytest.approx(value, rel=1e-4), name


def test_global_batch_must_divide_by_replicas():
  strategy = tf.distribute.MirroredStrategy(_two_cpus())
  assert distribution.per_replica_batch_size(strategy, 6) == 3
  with pytest.raises(ValueError, match="--global_batch_size=3 .* 2 replicas"):
    distribution.per_replica_batch_size(strategy, 3)


def test_strategy_from_flags(monkeypatch):
  train = testlib.tiny_config("unused", ["unused"]).train
  assert distribution.resolve_strategy_name(train) == "one_device"  # auto, no GPU.
  strategy = distribution.make_strategy(train)
  assert isinstance(strategy, tf.distribute.OneDeviceStrategy)
  assert distribution.is_chief(strategy)
  monkeypatch.delenv("TF_CONFIG", raising=False)
  multi_worker = testlib.replace_train(
      testlib.tiny_config("unused", ["unused"]), strategy="multi_worker").train
  with pytest.raises(ValueError, match="--strategy=multi_worker needs .*TF_CONFIG"):
    distribution.make_strategy(multi_worker)


@pytest.mark.large
def test_jit_compiled_step_trains_on_the_records(tmp_path, sample_dataset):
  # The records' string key used to reach the XLA-compiled step and fail it.
  config = testlib.tiny_config(tmp_path / "jit", sample_dataset.train_files,
                               jit_compile=True)
  trainer = loop.Trainer(config, strategy=tf.distribute.OneDeviceStrategy("/cpu:0"))
  before = testlib.model_variables(trainer.gan)
  result = trainer.run()
  assert result.step == 2
  assert all(np.isfinite(value) for value in result.metrics.values()), result.metrics
  after = testlib.model_variables(trainer.gan)
  assert any(not np.array_equal(before[name], after[name]) for name in before)
