"""Reflection padding, used before the generator's 7x7 stem and head convs."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfcolor")
class ReflectionPadding2D(keras.layers.Layer):
  """Pads height and width by mirroring the image (edge pixel not repeated).

  Zero padding before a wide 7x7 conv on a white page would darken the border;
  a mirror keeps the statistics of the edge. Channels-last input (B, H, W, C);
  works with unknown H and W.

  Args:
    padding: Pixels added on each side of both spatial dims; each dim must be
      larger than `padding`.
  """

  def __init__(self, padding=3, **kwargs):
    super().__init__(**kwargs)
    if int(padding) < 0:
      raise ValueError(f"ReflectionPadding2D: padding must be >= 0, got {padding}")
    self.padding = int(padding)

  def call(self, inputs):
    pad = self.padding
    return ops.pad(inputs, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="reflect")

  def compute_output_shape(self, input_shape):
    batch, height, width, channels = input_shape
    grow = lambda size: None if size is None else size + 2 * self.padding
    return (batch, grow(height), grow(width), channels)

  def get_config(self):
    config = super().get_config()
    config.update({"padding": self.padding})
    return config
