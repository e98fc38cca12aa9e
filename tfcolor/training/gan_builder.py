"""Builds the GAN and both optimizers from an `ExperimentConfig`."""

import keras
import tensorflow as tf

from tfcolor.models import factory
from tfcolor.training import gan as gan_lib
from tfcolor.training import schedules


def _make_optimizer(train_config):
  optimizer = keras.optimizers.Adam(learning_rate=schedules.learning_rate(train_config),
                                    beta_1=train_config.beta_1,
                                    beta_2=train_config.beta_2)
  if train_config.mixed_precision == "mixed_float16":
    optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
  return optimizer


def build_gan(config, global_batch_size):
  """Builds the GAN and both optimizers (call inside `strategy.scope()`).

  The Keras dtype policy of `--mixed_precision` is set while the networks are
  built and restored afterwards (layers keep the policy they were built with).
  """
  model_config = config.model
  policy = config.train.mixed_precision
  with factory.dtype_policy(None if policy == "none" else policy):
    vgg = factory.build_vgg19(model_config.vgg_weights)
    generator = factory.build_generator(model_config, vgg)
    discriminator = factory.build_discriminator(model_config)
    perceptual = factory.build_perceptual(vgg)
    size = config.data.crop_size
    if not discriminator.built:
      discriminator(tf.zeros((1, size, size, 4)))
    if not generator.built:
      generator({"lineart": tf.zeros((1, size, size, 1)),
                 "hints": tf.zeros((1, size, size, 4))})
  gan = gan_lib.ColorizationGAN(generator, discriminator, perceptual)
  gan.compile(g_optimizer=_make_optimizer(config.train),
              d_optimizer=_make_optimizer(config.train),
              loss_config=config.loss, global_batch_size=global_batch_size)
  gan.build_optimizers()
  return gan
