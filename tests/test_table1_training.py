"""Every generator of Table 1 trains: one step each, and Ci et al.'s WGAN-GP setup traced
under MirroredStrategy on two replicas (the nested gradient-penalty tape inside
`strategy.run`)."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

import trainer_testlib as testlib
from tfcolor import config as config_lib
from tfcolor.training import gan as gan_lib
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
def test_each_generator_trains_a_step(generator, faithful_ci2018):
  config = _config("unused", generator, faithful_ci2018)
  keras.utils.set_random_seed(0)
  gan = loop.build_gan(config, 2)
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


def test_ci2018_wgan_gp_step_traced_on_two_mirrored_replicas(tmp_path, sample_dataset):
  cpus = tf.config.list_logical_devices("CPU")
  if len(cpus) < 2:
    pytest.skip("needs the two logical CPUs of tests/conftest.py")
  config = _config(tmp_path / "run", "ci2018", faithful_ci2018=True, train_steps=2,
                   global_batch_size=4)
  config = dataclasses.replace(config, data=dataclasses.replace(
      config.data, train_data=",".join(sample_dataset.train_files)))
  strategy = tf.distribute.MirroredStrategy([cpus[0].name, cpus[1].name])
  examples = testlib.random_batch(4, seed=5)

  def dataset_fn(data_config, batch_size, seed=0, input_context=None):
    del data_config, seed, input_context
    return tf.data.Dataset.from_tensor_slices(examples).batch(batch_size).repeat()

  trainer = loop.Trainer(config, strategy=strategy, dataset_fn=dataset_fn)
  result = trainer.run()

  assert result.step == 2
  assert set(gan_lib.WGAN_GP_TERMS) <= set(result.metrics)
  assert all(np.isfinite(value) for value in result.metrics.values()), result.metrics
  assert result.metrics["d_gradient_penalty"] > 0
