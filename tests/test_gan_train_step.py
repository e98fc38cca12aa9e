"""ColorizationGAN.train_step: what it updates, what it reports, and how.

The step runs eagerly here: tracing it costs ~15 s of CPU, a step ~1 s. The
traced, distributed path is tested by the loop tests.
"""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

import trainer_testlib as testlib
from tfcolor.training import losses
from tfcolor.training import gan as gan_lib
from tfcolor.training import gan_builder
from tfcolor.training import nan_guard


def _tiny_gan(global_batch_size=2, **train_overrides):
  config = testlib.tiny_config("unused", ["unused"], **train_overrides)
  keras.utils.set_random_seed(0)
  return gan_builder.build_gan(config, global_batch_size), config


def _pairs(lineart, image):
  return tf.concat([lineart, tf.cast(image, tf.float32)], axis=-1)


@pytest.mark.large
def test_one_step_updates_generator_and_discriminators_but_not_vgg():
  gan, _ = _tiny_gan()
  batch = testlib.random_batch(2)
  vgg_before = [np.array(w) for w in gan.generator.vgg.weights]
  before = {v.path: np.array(v) for v in gan.generator.trainable_variables
            + gan.discriminator.trainable_variables}

  metrics = gan.train_step(batch)

  assert list(metrics) == list(gan_lib.METRIC_NAMES)
  assert all(np.isfinite(float(value)) for value in metrics.values()), metrics
  unchanged = [v.path for v in gan.generator.trainable_variables
               + gan.discriminator.trainable_variables
               if np.array_equal(before[v.path], np.array(v))]
  assert not unchanged, f"variables not updated: {unchanged}"
  for weight, value in zip(gan.generator.vgg.weights, vgg_before):
    np.testing.assert_array_equal(np.array(weight), value)
  assert int(gan.g_optimizer.iterations) == 1
  assert int(gan.d_optimizer.iterations) == 1


@pytest.mark.large
def test_metrics_are_shares_of_the_global_batch_mean():
  """d_loss, scores and perceptual from the pre-step networks, over the GLOBAL batch."""
  batch = testlib.random_batch(2, seed=1)
  expected = None
  for global_batch_size in (2, 4):  # 4 = this replica holds half the global batch.
    gan, config = _tiny_gan(global_batch_size)
    inputs = {"lineart": batch["lineart"], "hints": batch["hints"]}
    fake = gan.generator(inputs, training=True)
    real_out = gan.discriminator(_pairs(batch["lineart"], batch["image"]), training=True)
    fake_out = gan.discriminator(_pairs(batch["lineart"], fake), training=True)
    per_example = {
        "d_loss": losses.discriminator_adversarial_loss(
            real_out, fake_out, config.loss.adversarial_loss),
        "d_real_score": gan_lib.discriminator_scores(real_out, "bce"),
        "d_fake_score": gan_lib.discriminator_scores(fake_out, "bce"),
        "g_perceptual": losses.perceptual_loss(
            gan.perceptual(batch["image"]), gan.perceptual(fake),
            config.loss.perceptual_layer_weights),
    }
    metrics = gan.train_step(batch)
    share = 2 / global_batch_size
    for name, values in per_example.items():
      np.testing.assert_allclose(float(metrics[name]),
                                 share * float(np.mean(values)), rtol=1e-4, err_msg=name)
    total = (config.loss.adversarial_weight * metrics["g_adversarial"]
             + config.loss.feature_matching_weight * metrics["g_feature_matching"]
             + config.loss.perceptual_weight * metrics["g_perceptual"])
    np.testing.assert_allclose(float(metrics["g_loss"]), float(total), rtol=1e-5)
    if expected is None:
      expected = {name: float(value) for name, value in metrics.items()}
    else:  # Same seed, same batch: exactly half of the single-replica values.
      for name, value in metrics.items():
        np.testing.assert_allclose(float(value), expected[name] / 2, rtol=1e-4,
                                   err_msg=name)


def test_discriminator_scores_are_probabilities_for_bce_and_raw_otherwise():
  logits = tf.constant([[[[0.0], [2.0]]], [[[-2.0], [4.0]]]])  # (2, 1, 2, 1)
  outputs = [[tf.zeros((2, 1, 1, 1)), logits], [logits * 0 + 1.0]]
  bce = gan_lib.discriminator_scores(outputs, "bce").numpy()
  sigmoid = 1 / (1 + np.exp(-np.array([[0.0, 2.0], [-2.0, 4.0]])))
  np.testing.assert_allclose(
      bce, (sigmoid.mean(axis=1) + 1 / (1 + np.exp(-1.0))) / 2, rtol=1e-6)
  np.testing.assert_allclose(
      gan_lib.discriminator_scores(outputs, "lsgan").numpy(), [(1.0 + 1) / 2, (1.0 + 1) / 2])


@pytest.mark.large
def test_a_nan_batch_gives_non_finite_losses_that_the_guard_names():
  gan, _ = _tiny_gan()
  batch = testlib.random_batch(2)
  batch["image"][0, 0, 0, 0] = np.nan
  metrics = {name: float(value)
             for name, value in gan.train_step(batch).items()}
  assert not np.isfinite(metrics["d_loss"])
  with pytest.raises(nan_guard.NonFiniteLossError, match=r"step 7: .*d_loss=nan"):
    nan_guard.check_finite(7, metrics)
  nan_guard.check_finite(8, {name: 1.0 for name in gan_lib.METRIC_NAMES})  # No error.


@pytest.mark.large
def test_mixed_float16_wraps_both_optimizers_and_steps():
  gan, _ = _tiny_gan(mixed_precision="mixed_float16")
  assert keras.mixed_precision.global_policy().name == "float32"  # Restored.
  assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
  assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
  assert gan.generator.compute_dtype == "float16"
  metrics = gan.train_step(testlib.random_batch(2))
  assert all(np.isfinite(float(value)) for value in metrics.values()), metrics
  for optimizer in (gan.g_optimizer, gan.d_optimizer):
    # Either the step was applied or the loss scale dropped (float16 overflow).
    assert (int(optimizer.iterations) == 1
            or float(optimizer.dynamic_scale) < optimizer.initial_scale)


def test_build_gan_creates_optimizer_slots_before_the_first_step():
  gan, config = _tiny_gan()
  assert gan.g_optimizer.built and gan.d_optimizer.built
  assert float(gan.g_optimizer.learning_rate) == pytest.approx(config.train.learning_rate)
  assert float(gan.d_optimizer.beta_1) == pytest.approx(config.train.beta_1)
  assert dataclasses.asdict(gan.loss_config) == dataclasses.asdict(config.loss)


def test_build_gan_decays_the_learning_rate_of_both_optimizers():
  gan, config = _tiny_gan(train_steps=10, lr_decay_fraction=0.5)
  for optimizer in (gan.g_optimizer, gan.d_optimizer):
    optimizer.iterations.assign(4)
    assert float(optimizer.learning_rate) == pytest.approx(config.train.learning_rate)
    optimizer.iterations.assign(8)
    assert float(optimizer.learning_rate) == pytest.approx(config.train.learning_rate * 0.4)


@pytest.mark.large
def test_wgan_gp_step_adds_weighted_penalty_and_drift_to_the_critic_loss():
  config = testlib.tiny_config("unused", ["unused"])
  config = dataclasses.replace(config, loss=dataclasses.replace(
      config.loss, adversarial_loss="wgan_gp", gradient_penalty_weight=7.0,
      drift_weight=0.25, adversarial_weight=0.5))
  keras.utils.set_random_seed(0)
  gan = gan_builder.build_gan(config, 2)
  batch = testlib.random_batch(2, seed=3)
  fake = gan.generator({"lineart": batch["lineart"], "hints": batch["hints"]},
                       training=True)
  real_out = gan.discriminator(_pairs(batch["lineart"], batch["image"]), training=True)
  fake_out = gan.discriminator(_pairs(batch["lineart"], fake), training=True)
  wasserstein = float(np.mean(losses.discriminator_adversarial_loss(
      real_out, fake_out, "wgan_gp")))
  drift = float(np.mean(losses.drift_penalty(real_out)))

  metrics = gan.train_step(batch)

  assert list(metrics) == list(gan_lib.metric_names(config.loss))
  assert {"d_gradient_penalty", "d_drift"} <= set(metrics)
  assert all(np.isfinite(float(value)) for value in metrics.values()), metrics
  assert float(metrics["d_gradient_penalty"]) > 0
  np.testing.assert_allclose(float(metrics["d_drift"]), drift, rtol=1e-4)
  np.testing.assert_allclose(
      float(metrics["d_loss"]),
      wasserstein + 7.0 * float(metrics["d_gradient_penalty"]) + 0.25 * drift, rtol=1e-4)
  np.testing.assert_allclose(
      float(metrics["g_loss"]),
      float(0.5 * metrics["g_adversarial"]
            + config.loss.feature_matching_weight * metrics["g_feature_matching"]
            + config.loss.perceptual_weight * metrics["g_perceptual"]), rtol=1e-5)
  assert int(gan.d_optimizer.iterations) == 1
