"""The export's compute precision: the trained generator rebuilt under a Keras dtype policy.

`--precision=bfloat16` rebuilds the run's generator from its `ModelConfig`
(`factory.build_generator`, the one definition of the network) under the
`bfloat16` dtype policy around the float32 generator's VGG19 and copies the
float32 weights in, rounded to bfloat16: the convolutions then run and store
their weights in bfloat16 (the SavedModel is half the size). What stays float32, because the layers say so
under any policy: the instance norm statistics (Keras' GroupNormalization
computes them in float32), the VGG19 hint encoder (`tfcolor.models.vgg`; the
float32 generator's VGG, shared, so its weights keep float32) and the tanh
head. The serving signature casts at its boundary, so the uint8 signature is
the same as float32's. docs/deployment.md gives the measured difference and
speed.
"""

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
  # The VGG19 hint encoder stays float32: the float32 generator's own is shared
  # (its weights not copied), the rest is built under the policy and assigned
  # one weight at a time (`get_weights()` held a second float32 copy of every
  # weight: 3.1 GB peak at the default widths instead of 2.3 GB;
  # docs/deployment.md, Export memory).
  vgg = getattr(generator, "vgg", None)
  with factory.dtype_policy(precision):
    rebuilt = factory.build_generator(model_config, vgg)
  for target, source in zip(rebuilt.weights, generator.weights, strict=True):
    if target is not source:
      target.assign(source)  # Rounded to the target's dtype.
  return rebuilt
