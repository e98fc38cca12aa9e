"""The tiny model configuration and helpers the model, export and FLOP tests share."""

import dataclasses

import numpy as np

from tfcolor.config import ModelConfig

# Every width of DESIGN.md's layer list, shrunk so a forward pass takes milliseconds.
TINY_MODEL = ModelConfig(
    stem_filters=8, down_filters=(8, 16, 16, 32), num_mid_blocks=2,
    csa_hint_filters=8, csa_attention_filters=8, up_filters=(16, 16, 8, 8),
    vgg_weights="none")

# TINY_MODEL for each generator of Table 1 (ci2018 with its own narrow widths).
TINY_GENERATORS = {
    "csa": TINY_MODEL,
    "resnet": dataclasses.replace(TINY_MODEL, generator="resnet"),
    "pix2pixhd": dataclasses.replace(TINY_MODEL, generator="pix2pixhd"),
    "ci2018": dataclasses.replace(TINY_MODEL, generator="ci2018", ci2018_filters=8,
                                  ci2018_blocks=(1, 1, 1, 1)),
}


def random_generator_inputs(batch, height, width, seed=0):
  """Generator inputs: line art in [-1, 1] and ~20% hinted pixels (RGB + mask)."""
  rng = np.random.default_rng(seed)
  mask = (rng.uniform(size=(batch, height, width, 1)) < 0.2).astype("float32")
  return {"lineart": rng.uniform(-1, 1, (batch, height, width, 1)).astype("float32"),
          "hints": np.concatenate([rng.uniform(-1, 1, (batch, height, width, 3)) * mask,
                                   mask], axis=-1).astype("float32")}


def trainable_params(model):
  return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def conv_params(kernel, in_channels, out_channels, bias=True):
  """Weights of a kernel x kernel conv (or transposed conv), bias included by default."""
  return kernel * kernel * in_channels * out_channels + (out_channels if bias else 0)
