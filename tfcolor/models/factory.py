"""Builds the networks of an experiment from its `ModelConfig`.

One VGG19 serves the CSA generator's hint encoder and the perceptual loss:

  vgg = build_vgg19(model_config.vgg_weights)
  generator = build_generator(model_config, vgg)
  perceptual = build_perceptual(vgg)
  discriminator = build_discriminator(model_config)

The Table 1 baselines (pix2pixhd, ci2018) have no hint encoder: they ignore
`vgg` and never build one.
"""

import contextlib

import keras

from tfcolor import config as config_lib
from tfcolor.models.ci2018 import Ci2018Generator
from tfcolor.models.ci2018_critic import Ci2018Critic
from tfcolor.models.discriminator import MultiScaleDiscriminator
from tfcolor.models.generator import ColorizationGenerator
from tfcolor.models.local_features import load_local_features
from tfcolor.models.pix2pixhd import Pix2PixHDGenerator
from tfcolor.models.vgg import PerceptualFeatures, build_vgg19

__all__ = ["build_vgg19", "build_generator", "build_discriminator", "build_perceptual",
           "dtype_policy"]


@contextlib.contextmanager
def dtype_policy(name):
  """Keras' global dtype policy is `name` inside the block; None leaves it as it is.

  Layers keep the policy they were built with, so networks built inside
  compute in `name` after the block (training's --mixed_precision, the
  export's --precision).
  """
  previous = keras.mixed_precision.global_policy()
  if name is not None:
    keras.mixed_precision.set_global_policy(name)
  try:
    yield
  finally:
    keras.mixed_precision.set_global_policy(previous)


def build_generator(model_config, vgg=None):
  """The generator of `model_config.generator`.

  csa and resnet hold the shared VGG19 (built from `vgg_weights` if `vgg` is
  None); pix2pixhd and ci2018 do not use it. ci2018 loads `--local_features`.
  """
  kind = model_config.generator
  if kind in ("csa", "resnet"):
    if vgg is None:
      vgg = build_vgg19(model_config.vgg_weights)
    return ColorizationGenerator(
        vgg,
        mid_block=kind,
        stem_filters=model_config.stem_filters,
        down_filters=model_config.down_filters,
        num_mid_blocks=model_config.num_mid_blocks,
        csa_hint_filters=model_config.csa_hint_filters,
        csa_attention_filters=model_config.csa_attention_filters,
        up_filters=model_config.up_filters,
        norm_epsilon=model_config.norm_epsilon,
        name="generator")
  if kind == "pix2pixhd":
    return Pix2PixHDGenerator(
        stem_filters=model_config.stem_filters,
        down_filters=model_config.down_filters,
        num_mid_blocks=model_config.num_mid_blocks,
        up_filters=model_config.up_filters,
        norm_epsilon=model_config.norm_epsilon,
        name="generator")
  if kind == "ci2018":
    return Ci2018Generator(
        load_local_features(model_config.local_features),
        filters=model_config.ci2018_filters,
        blocks=model_config.ci2018_blocks,
        name="generator")
  raise ValueError(f"--generator={kind!r} is not one of {config_lib.GENERATORS}")


def build_discriminator(model_config):
  """The discriminator of `model_config.discriminator` (input: line art + image, 4 ch).

  patchgan: the multi-scale PatchGANs; ci2018_critic: Ci et al.'s WGAN-GP
  critic, conditioned on `--local_features` when given. Both return a list (one
  per discriminator) of lists of feature maps whose last is the logits/score.
  """
  kind = model_config.discriminator
  if kind == "patchgan":
    return MultiScaleDiscriminator(
        num_discriminators=model_config.num_discriminators,
        filters=model_config.discriminator_filters,
        norm_epsilon=model_config.norm_epsilon,
        name="discriminator")
  if kind == "ci2018_critic":
    return Ci2018Critic(load_local_features(model_config.local_features),
                        filters=model_config.ci2018_filters, name="discriminator")
  raise ValueError(f"--discriminator={kind!r} is not one of {config_lib.DISCRIMINATORS}")


def build_perceptual(vgg):
  """VGG19 relu1_1..relu5_1 features of an image in [-1, 1], on the shared `vgg`."""
  return PerceptualFeatures(vgg, name="perceptual_features")
