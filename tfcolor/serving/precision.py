"""The export's compute precision: the trained generator rebuilt under a Keras dtype policy.

`--precision=bfloat16` rebuilds the run's generator from its `ModelConfig`
(`factory.build_generator`, the one definition of the network) under the
`bfloat16` dtype policy and copies the float32 weights in, rounded to
bfloat16: the convolutions then run and store their weights in bfloat16 (the
SavedModel is half the size). What stays float32, because the layers say so
under any policy: the instance norm statistics (Keras' GroupNormalization
computes them in float32), the VGG19 hint encoder (`tfcolor.models.vgg`; its
VGG is built outside the policy so its weights keep float32) and the tanh
head. The serving signature casts at its boundary, so the uint8 signature is
the same as float32's. docs/deployment.md gives the measured difference and
speed.
"""

import dataclasses

from tfcolor.models import factory

PRECISIONS = ("float32", "bfloat16")
# How far a bfloat16 export's uint8 colours may be from the float32 export's
# (|diff| over every colour value): measured mean 1.0-1.8 and 99th percentile
# 4-8 on random and trained models (docs/deployment.md); the tests hold it.
BFLOAT16_TOLERANCE = {"mean": 2.5, "p99": 10}


def check_precision(precision):
  """Raises ValueError naming --precision unless it is one of PRECISIONS."""
  if precision not in PRECISIONS:
    raise ValueError(f"--precision must be one of {list(PRECISIONS)}, got {precision!r}")


def generator_in_precision(generator, model_config, precision):
  """`generator` (float32, built from `model_config`) computing in `precision`.

  float32 returns `generator` itself; bfloat16 a new generator with its weights.
  """
  check_precision(precision)
  if precision == "float32":
    return generator
  model_config = dataclasses.replace(model_config, vgg_weights="none")
  vgg = factory.build_vgg19(model_config.vgg_weights)  # float32: the hint feature
  with factory.dtype_policy(precision):
    rebuilt = factory.build_generator(model_config, vgg)
  rebuilt.set_weights(generator.get_weights())
  return rebuilt
