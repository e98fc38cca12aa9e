"""Leaky ReLU as max(x, slope * x), for the one place a conv feeds it directly.

Under oneDNN (TF_ENABLE_ONEDNN_OPTS=1, TensorFlow's default on CPUs with AVX-512)
grappler's remapper fuses Conv2D + BiasAdd + LeakyRelu into one op and removes the
BiasAdd that the gradient's LeakyReluGrad still reads. It then rejects its own
rewrite and logs `remapper failed: ... LeakyReluGrad` as an error on every trace
of a train step (the graph runs unfused, so results were right). Written as a
maximum, the activation is no fusion pattern and its gradient reads no fused
node. Same values for every x; at exactly x = 0 the slope is 1 instead of 0.2.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfcolor")
class MaximumLeakyReLU(keras.layers.Layer):
  """max(x, slope * x) for 0 <= slope < 1: a leaky ReLU no remapper fuses."""

  def __init__(self, negative_slope=0.2, **kwargs):
    super().__init__(**kwargs)
    if not 0.0 <= float(negative_slope) < 1.0:
      raise ValueError(f"MaximumLeakyReLU: negative_slope must be in [0, 1), got {negative_slope}")
    self.negative_slope = float(negative_slope)

  def call(self, inputs):
    return ops.maximum(inputs, ops.multiply(inputs, self.negative_slope))

  def compute_output_shape(self, input_shape):
    return input_shape

  def get_config(self):
    return {**super().get_config(), "negative_slope": self.negative_slope}
