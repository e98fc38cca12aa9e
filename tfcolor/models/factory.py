"""Builds the networks of an experiment from its `ModelConfig`.

One VGG19 serves the generator's hint encoder and the perceptual loss:

  vgg = build_vgg19(model_config.vgg_weights)
  generator = build_generator(model_config, vgg)
  perceptual = build_perceptual(generator.vgg)
  discriminator = build_discriminator(model_config)
"""

from tfcolor.models.discriminator import MultiScaleDiscriminator
from tfcolor.models.generator import ColorizationGenerator
from tfcolor.models.vgg import PerceptualFeatures, build_vgg19

__all__ = ["build_vgg19", "build_generator", "build_discriminator", "build_perceptual"]


def build_generator(model_config, vgg=None):
  """The generator of `model_config`; builds its VGG19 from `vgg_weights` if None."""
  if vgg is None:
    vgg = build_vgg19(model_config.vgg_weights)
  return ColorizationGenerator(
      vgg,
      mid_block=model_config.generator,
      stem_filters=model_config.stem_filters,
      down_filters=model_config.down_filters,
      num_mid_blocks=model_config.num_mid_blocks,
      csa_hint_filters=model_config.csa_hint_filters,
      csa_attention_filters=model_config.csa_attention_filters,
      up_filters=model_config.up_filters,
      norm_epsilon=model_config.norm_epsilon,
      name="generator")


def build_discriminator(model_config):
  """The multi-scale PatchGAN of `model_config` (input: line art + image, 4 ch)."""
  return MultiScaleDiscriminator(
      num_discriminators=model_config.num_discriminators,
      filters=model_config.discriminator_filters,
      norm_epsilon=model_config.norm_epsilon,
      name="discriminator")


def build_perceptual(vgg):
  """VGG19 relu1_1..relu5_1 features of an image in [-1, 1], on the shared `vgg`."""
  return PerceptualFeatures(vgg, name="perceptual_features")
