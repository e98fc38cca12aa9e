"""Every generator of Table 1 trains: one step each, and Ci et al.'s WGAN-GP setup traced
under MirroredStrategy on two replicas (the nested gradient-penalty tape inside
`strategy.run`)."""

import dataclasses
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import trainer_testlib as testlib
from tfcolor import config as config_lib
from tfcolor.training import gan as gan_lib
from tfcolor.training import gan_builder
from tfcolor.training import loop

# tf.data functions stay traced under run_functions_eagerly; TF warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Even though the")

TINY_CI2018 = dict(ci2018_filters=8, ci2018_blocks=(1, 1, 1, 1))


def _config(model_dir, generator, faithful_ci2018=False, **train_overrides):
  config = testlib.tiny_config(model_dir, ["unused"], **train_overrides)
  model = dataclasses.replace(config.model, generator=generator, **TINY_CI2018)
  loss = config.loss
  if faithful_ci2018:  # configs/table1/ci2018.cfg's objective
    model = dataclasses.replace(model, discriminator="ci2018_critic")
    loss = dataclasses.replace(loss, adversarial_loss="wgan_gp", adversarial_weight=1e-4,
                               feature_matching_weight=0.0, perceptual_weight=1.0,
                               perceptual_layer_weights=(0, 0, 0, 1, 0))
  return config_lib.validate(dataclasses.replace(config, model=model, loss=loss))


@pytest.mark.parametrize("generator, faithful_ci2018", [
    ("csa", False), ("resnet", False), ("pix2pixhd", False), ("ci2018", False),
    ("ci2018", True)])
@pytest.mark.large
def test_each_generator_trains_a_step(generator, faithful_ci2018):
  config = _config("unused", generator, faithful_ci2018)
  keras.utils.set_random_seed(0)
  gan = gan_builder.build_gan(config, 2)
  trainable = gan.generator.trainable_variables + gan.discriminator.trainable_variables
  before = {v.path: np.array(v) for v in trainable}

  metrics = gan.train_step(testlib.random_batch(2, seed=4))

  assert list(metrics) == list(gan_lib.metric_names(config.loss))
  assert all(np.isfinite(float(value)) for value in metrics.values()), metrics
  moved = [v.path for v in trainable if not np.array_equal(before[v.path], np.array(v))]
  # Every network learns; a few variables may see an exact-zero gradient (e.g. a
  # conv bias before instance norm), but most must move.
  for network in (gan.generator, gan.discriminator):
    paths = [v.path for v in network.trainable_variables]
    assert paths, network.name
    assert sum(path in moved for path in paths) > 0.8 * len(paths), (
        network.name, sorted(set(paths) - set(moved)))
  output = gan.generator({"lineart": tf.ones((1, 48, 32, 1)),
                          "hints": tf.zeros((1, 48, 32, 4))})
  assert output.shape == (1, 48, 32, 3) and output.dtype == tf.float32


# Run in a fresh process: every MirroredStrategy of a process starts its
# collective keys at the same number (TF 2.21), so a second traced mirrored run
# after tests/test_distribution.py's would collide with that run's cached
# collectives ("Shape mismatch in the collective instance"). One process, one
# strategy, as in `python -m tfcolor.train`.
_MIRRORED_CHILD = r"""
import dataclasses, json, sys
import tensorflow as tf
cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
import numpy as np
import trainer_testlib as testlib
from test_table1_training import _config
from tfcolor.training import loop

model_dir, train_files = sys.argv[1], sys.argv[2]
config = _config(model_dir, "ci2018", faithful_ci2018=True, train_steps=2,
                 global_batch_size=4)
config = dataclasses.replace(config, data=dataclasses.replace(
    config.data, train_data=train_files))
logical = tf.config.list_logical_devices("CPU")
strategy = tf.distribute.MirroredStrategy([logical[0].name, logical[1].name])
examples = testlib.random_batch(4, seed=5)

def dataset_fn(data_config, batch_size, seed=0, input_context=None):
  del data_config, seed, input_context
  return tf.data.Dataset.from_tensor_slices(examples).batch(batch_size).repeat()

trainer = loop.Trainer(config, strategy=strategy, dataset_fn=dataset_fn)
result = trainer.run()
print(json.dumps({"step": int(result.step), "replicas": strategy.num_replicas_in_sync,
                  "metrics": {k: float(v) for k, v in result.metrics.items()}}))
"""


@pytest.mark.large
def test_ci2018_wgan_gp_step_traced_on_two_mirrored_replicas(tmp_path, sample_dataset):
  env = testlib.python_env()
  env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(__file__), env["PYTHONPATH"]])
  result = subprocess.run(
      [sys.executable, "-c", _MIRRORED_CHILD, str(tmp_path / "run"),
       ",".join(sample_dataset.train_files)],
      cwd=testlib.REPO_ROOT, env=env, capture_output=True, text=True, timeout=600,
      check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads(result.stdout.strip().splitlines()[-1])

  assert report["step"] == 2 and report["replicas"] == 2
  metrics = report["metrics"]
  assert set(gan_lib.WGAN_GP_TERMS) <= set(metrics)
  assert all(np.isfinite(value) for value in metrics.values()), metrics
  assert metrics["d_gradient_penalty"] > 0
