"""Layers of Ci et al. 2018's generator and critic: grouped conv, ResNeXt block, pixel shuffle.

Grouped convolutions on CPU (TensorFlow 2.21, Keras 3.15): the native op
(`tf.nn.convolution` with a kernel of in_channels / groups inputs) runs forward
on CPU, but its gradient fails ("Gradients for grouped convolutions are not
supported on CPU"). `keras.layers.Conv2D(groups=)` works around that by
compiling every grouped conv with XLA, whose backward pass measured 100x slower
than the alternatives (8-44 s for one layer at 512-px shapes). `GroupedConv2D`
therefore keeps Keras' grouped kernel layout (kh, kw, in / groups, filters) and
runs one small conv per group on CPU, the native grouped op when a GPU is
visible. Both give the same outputs (tested), and checkpoints move between them.
"""

import math

import keras
from keras import ops
import tensorflow as tf

LEAKY_SLOPE = 0.2


def _gpu_visible():
  return bool(tf.config.list_logical_devices("GPU"))


@keras.saving.register_keras_serializable(package="tfcolor")
class GroupedConv2D(keras.layers.Conv2D):
  """`keras.layers.Conv2D` with `groups`, trainable on CPU (see module docstring).

  Same arguments, weights and outputs as `Conv2D(groups=...)`; channels last.
  """

  def convolution_op(self, inputs, kernel):
    if self.groups == 1:
      return super().convolution_op(inputs, kernel)
    if _gpu_visible():
      return tf.nn.convolution(inputs, kernel, strides=list(self.strides),
                               padding=self.padding.upper(),
                               dilations=list(self.dilation_rate))
    group_inputs = ops.split(inputs, self.groups, axis=-1)
    group_kernels = ops.split(kernel, self.groups, axis=-1)
    return ops.concatenate(
        [ops.conv(group_input, group_kernel, strides=list(self.strides),
                  padding=self.padding, dilation_rate=self.dilation_rate)
         for group_input, group_kernel in zip(group_inputs, group_kernels)], axis=-1)


@keras.saving.register_keras_serializable(package="tfcolor")
class ResNeXtBlock(keras.layers.Layer):
  """Ci et al.'s ResNeXt bottleneck: out = shortcut(x) + expand(g(reduce(x))).

    reduce:   conv1x1 -> filters / 2, LReLU(0.2)
    g:        grouped conv (3x3, or 4x4 at stride 2), `cardinality` groups,
              dilation `dilation`, LReLU(0.2)
    expand:   conv1x1 -> filters
    shortcut: identity, or 2x2 average pooling at stride 2

  No biases, no normalisation (as the authors' code). Convs pad "same": for
  even sizes that is PyTorch's padding = dilation (stride 1) and padding 1
  (4x4 stride 2); odd sizes round up instead of down.

  Args:
    filters: Channels in and out.
    cardinality: Groups of the middle conv; reduced to gcd(cardinality,
      filters / 2) so that small test widths work (no change at the paper's).
    dilation: Dilation of the middle conv (stride 1 only).
    strides: 1 or 2.
  """

  def __init__(self, filters, cardinality=32, dilation=1, strides=1, **kwargs):
    super().__init__(**kwargs)
    self.filters = int(filters)
    self.cardinality = int(cardinality)
    self.dilation = int(dilation)
    self.strides = int(strides)
    if self.filters < 2 or self.filters % 2:
      raise ValueError(f"{self.name}: filters must be even and >= 2, got {filters}")
    if self.strides not in (1, 2) or (self.strides == 2 and self.dilation != 1):
      raise ValueError(f"{self.name}: strides must be 1, or 2 with dilation 1; got "
                       f"strides={strides}, dilation={dilation}")
    bottleneck = self.filters // 2
    self.groups = math.gcd(self.cardinality, bottleneck)
    policy = self.dtype_policy
    self.reduce_conv = keras.layers.Conv2D(bottleneck, 1, use_bias=False, dtype=policy,
                                           name="reduce_conv")
    self.grouped_conv = GroupedConv2D(
        bottleneck, 2 + self.strides, strides=self.strides, padding="same",
        dilation_rate=self.dilation, groups=self.groups, use_bias=False, dtype=policy,
        name="grouped_conv")
    self.expand_conv = keras.layers.Conv2D(self.filters, 1, use_bias=False, dtype=policy,
                                           name="expand_conv")
    self.shortcut_pool = (
        keras.layers.AveragePooling2D(2, strides=2, padding="same", dtype=policy,
                                      name="shortcut_pool")
        if self.strides == 2 else None)

  def build(self, inputs_shape):
    if inputs_shape[-1] != self.filters:
      raise ValueError(f"{self.name}: input has {inputs_shape[-1]} channels but the "
                       f"block was made for filters={self.filters}")
    bottleneck_shape = tuple(inputs_shape[:-1]) + (self.filters // 2,)
    self.reduce_conv.build(inputs_shape)
    self.grouped_conv.build(bottleneck_shape)
    self.expand_conv.build(bottleneck_shape)

  def call(self, inputs):
    branch = ops.leaky_relu(self.reduce_conv(inputs), LEAKY_SLOPE)
    branch = ops.leaky_relu(self.grouped_conv(branch), LEAKY_SLOPE)
    branch = self.expand_conv(branch)
    shortcut = inputs if self.shortcut_pool is None else self.shortcut_pool(inputs)
    return shortcut + branch

  def compute_output_shape(self, inputs_shape):
    if self.strides == 1:
      return inputs_shape
    halve = lambda size: None if size is None else (size + 1) // 2
    batch, height, width, channels = inputs_shape
    return (batch, halve(height), halve(width), channels)

  def get_config(self):
    config = super().get_config()
    config.update({"filters": self.filters, "cardinality": self.cardinality,
                   "dilation": self.dilation, "strides": self.strides})
    return config


@keras.saving.register_keras_serializable(package="tfcolor")
class PixelShuffle(keras.layers.Layer):
  """(B, H, W, C * r * r) -> (B, H * r, W * r, C), TensorFlow's depth_to_space order.

  PyTorch's `nn.PixelShuffle` reads the input channels in another order
  (c * r * r + i * r + j instead of (i * r + j) * C + c); for networks trained
  here that is only a relabelling of the preceding conv's outputs, but a port of
  PyTorch weights would have to permute that conv's output channels.
  """

  def __init__(self, scale=2, **kwargs):
    super().__init__(**kwargs)
    self.scale = int(scale)

  def call(self, inputs):
    return ops.depth_to_space(inputs, self.scale)

  def compute_output_shape(self, input_shape):
    batch, height, width, channels = input_shape
    grow = lambda size: None if size is None else size * self.scale
    return (batch, grow(height), grow(width), channels // self.scale ** 2)

  def get_config(self):
    config = super().get_config()
    config.update({"scale": self.scale})
    return config
