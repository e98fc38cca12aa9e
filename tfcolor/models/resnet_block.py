"""The plain residual block: the mid-level block of the "w/o module" ablation."""

import keras

from tfcolor.models.instance_norm import instance_norm


@keras.saving.register_keras_serializable(package="tfcolor")
class ResnetBlock(keras.layers.Layer):
  """out = x + r, r = conv3x3 -> IN -> ReLU -> conv3x3 -> IN.

  The residual branch `r` is also the first half of `CSABlock`, which subclasses
  this layer, so both variants share one definition of it.

  Args:
    filters: Channels in and out (the branch keeps the width of `x`).
    norm_epsilon: Instance norm epsilon.
  """

  def __init__(self, filters, norm_epsilon=1e-5, **kwargs):
    super().__init__(**kwargs)
    self.filters = int(filters)
    self.norm_epsilon = float(norm_epsilon)
    self.residual_conv1 = keras.layers.Conv2D(
        self.filters, 3, padding="same", dtype=self.dtype_policy, name="residual_conv1")
    self.residual_norm1 = instance_norm(
        self.norm_epsilon, name="residual_norm1", dtype=self.dtype_policy)
    self.residual_conv2 = keras.layers.Conv2D(
        self.filters, 3, padding="same", dtype=self.dtype_policy, name="residual_conv2")
    self.residual_norm2 = instance_norm(
        self.norm_epsilon, name="residual_norm2", dtype=self.dtype_policy)

  def _check_width(self, inputs_shape):
    if inputs_shape[-1] != self.filters:
      raise ValueError(f"{self.name}: input has {inputs_shape[-1]} channels but the "
                       f"block was made for filters={self.filters}")

  def build(self, inputs_shape):
    self._check_width(inputs_shape)
    self._build_residual(inputs_shape)

  def _build_residual(self, inputs_shape):
    shape = tuple(inputs_shape[:-1]) + (self.filters,)
    self.residual_conv1.build(inputs_shape)
    self.residual_norm1.build(shape)
    self.residual_conv2.build(shape)
    self.residual_norm2.build(shape)

  def residual(self, inputs):
    """The branch r(x), before it is added to x."""
    branch = self.residual_conv1(inputs)
    branch = keras.activations.relu(self.residual_norm1(branch))
    return self.residual_norm2(self.residual_conv2(branch))

  def call(self, inputs):
    return inputs + self.residual(inputs)

  def compute_output_shape(self, inputs_shape):
    return inputs_shape

  def get_config(self):
    config = super().get_config()
    config.update({"filters": self.filters, "norm_epsilon": self.norm_epsilon})
    return config
