"""Parameter counts and forward GFLOPs of an experiment's networks."""

import numpy as np

from tfcolor import flops as flops_lib
from tfcolor.models import factory


def _count(weights):
  return int(sum(np.prod(weight.shape) for weight in weights))


def model_statistics(model_config, crop_size):
  """{generator_params, discriminator_params, vgg_params, generator_gflops, crop_size}.

  generator_params: trainable generator weights (the frozen VGG and local
  feature network excluded); discriminator_params: the trainable weights of
  all discriminators together; vgg_params: the VGG19 without classifier;
  generator_gflops: one crop_size x crop_size image, everything the generator
  runs included (the csa VGG hint encoder, ci2018's local feature network). The
  VGG is built with random weights: counting needs no download.
  """
  vgg = factory.build_vgg19("none")
  generator = factory.build_generator(model_config, vgg)
  discriminator = factory.build_discriminator(model_config)
  return {
      "generator_params": _count(generator.trainable_weights),
      "discriminator_params": _count(discriminator.trainable_weights),
      "vgg_params": _count(vgg.weights),
      "generator_gflops": flops_lib.generator_flops(generator, crop_size) / 1e9,
      "crop_size": int(crop_size),
  }


def format_table(stats, model_config):
  """The human-readable summary of `statistics.model_statistics` output."""
  size = stats["crop_size"]
  discriminator = (f"discriminators ({model_config.num_discriminators})"
                   if model_config.discriminator == "patchgan"
                   else f"discriminator ({model_config.discriminator})")
  return "\n".join([
      f"generator ({model_config.generator}) trainable params: "
      f"{stats['generator_params']:,}",
      f"{discriminator} params: {stats['discriminator_params']:,}",
      f"VGG19 (frozen, shared) params: {stats['vgg_params']:,}",
      f"generator forward GFLOPs at {size}x{size}, batch 1: "
      f"{stats['generator_gflops']:.2f}",
  ])
