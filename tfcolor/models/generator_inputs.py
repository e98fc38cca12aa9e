"""The input contract every colorization generator checks (csa, resnet, pix2pixhd, ci2018).

The trainer, export and evaluation call every generator the same way, so the
checks (and `make_colorize_fn`) live in one place and every generator fails
with the same message.
"""

import tensorflow as tf

from tfcolor.config import SIZE_MULTIPLE


def check_generator_inputs(inputs):
  """Clear errors for a wrong input dict or a static size that cannot work."""
  if not isinstance(inputs, dict) or set(inputs) != {"lineart", "hints"}:
    got = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
    raise ValueError("the generator takes a dict with keys 'hints' and 'lineart', "
                     f"got {got}")
  for key, channels in (("lineart", 1), ("hints", 4)):
    shape = tuple(inputs[key].shape)
    if len(shape) != 4 or shape[-1] != channels:
      raise ValueError(f"generator input '{key}' must be (batch, height, width, "
                       f"{channels}), got shape {shape}")
    for size in shape[1:3]:
      if size is not None and size % SIZE_MULTIPLE:
        raise ValueError(f"generator input '{key}' has shape {shape}: height and "
                         f"width must be multiples of {SIZE_MULTIPLE}")


def make_colorize_fn(generator):
  """A tf.function: model-range line art and hints -> float32 image, inference mode.

  The one way the trainer's sample grids and evaluation colour a batch.
  """

  @tf.function(reduce_retracing=True)
  def colorize(lineart, hints):
    return tf.cast(generator({"lineart": lineart, "hints": hints}, training=False),
                   tf.float32)

  return colorize
