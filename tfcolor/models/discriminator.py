"""pix2pixHD's multi-scale PatchGAN discriminators (DESIGN.md, Discriminators).

Padding: every 4x4 conv is preceded by a zero padding of 2 and runs "valid",
as in pix2pixHD (padw = ceil((4 - 1) / 2) = 2), so output sizes match the
reference: a side of n becomes n // 2 + 1 after each stride-2 conv and n + 1
after each stride-1 conv (256 -> 129, 65, 33, 34, 35). The receptive field of a
logit is 70x70 at its scale, whatever the padding.
"""

import keras

from tfcolor.models.instance_norm import instance_norm
from tfcolor.models.leaky_relu import MaximumLeakyReLU
from tfcolor.models.serialization import base_config, deserialize_dtype

KERNEL_SIZE = 4
PADDING = 2


@keras.saving.register_keras_serializable(package="tfcolor")
class PatchDiscriminator(keras.Model):
  """One PatchGAN: concat(lineart, image) (B, H, W, 4) -> every layer's output.

    conv4x4 s2 f0 -> LReLU(0.2)
    conv4x4 s2 f1 -> IN -> LReLU
    conv4x4 s2 f2 -> IN -> LReLU
    conv4x4 s1 f3 -> IN -> LReLU
    conv4x4 s1 1                    (logits, float32)

  Returns the list of these five outputs; the last is the logits map, the
  others feed the feature matching loss.

  Args:
    filters: Widths of the four convs before the logits.
    input_channels: Channels of the input (1 line art + 3 image).
    norm_epsilon: Instance norm epsilon.
  """

  def __init__(self, filters=(64, 128, 256, 512), input_channels=4,
               norm_epsilon=1e-5, dtype=None, **kwargs):
    filters = tuple(int(width) for width in filters)
    if len(filters) != 4:
      raise ValueError(f"PatchDiscriminator needs 4 filter widths, got {filters}")

    # === Layers ===
    strides = (2, 2, 2, 1)
    self.paddings = [keras.layers.ZeroPadding2D(PADDING, dtype=dtype, name=f"pad{i}")
                     for i in range(1, 6)]
    self.convs = [keras.layers.Conv2D(width, KERNEL_SIZE, strides=stride, dtype=dtype,
                                      name=f"conv{i}")
                  for i, (width, stride) in enumerate(zip(filters, strides), 1)]
    # The logits leave in float32 under mixed precision.
    self.convs.append(keras.layers.Conv2D(1, KERNEL_SIZE, dtype="float32",
                                          name="logits"))
    self.norms = [instance_norm(norm_epsilon, name=f"norm{i}", dtype=dtype)
                  for i in range(2, 5)]
    # The first conv feeds its activation directly: see models/leaky_relu.py.
    self.activations = [MaximumLeakyReLU(0.2, dtype=dtype, name="lrelu1")]
    self.activations += [keras.layers.LeakyReLU(0.2, dtype=dtype, name=f"lrelu{i}")
                         for i in range(2, 5)]

    # === Functional model ===
    inputs = keras.Input((None, None, input_channels), name="lineart_and_image")
    features = inputs
    outputs = []
    for i, (padding, conv) in enumerate(zip(self.paddings, self.convs)):
      features = conv(padding(features))
      if i < 4:
        if i > 0:
          features = self.norms[i - 1](features)
        features = self.activations[i](features)
      outputs.append(features)
    super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)

    # === Config ===
    self.filters = filters
    self.input_channels = input_channels
    self.norm_epsilon = norm_epsilon

  def get_config(self):
    return {**base_config(self),
            "filters": list(self.filters), "input_channels": self.input_channels,
            "norm_epsilon": self.norm_epsilon}

  @classmethod
  def from_config(cls, config):
    return cls(**deserialize_dtype(config))


@keras.saving.register_keras_serializable(package="tfcolor")
class MultiScaleDiscriminator(keras.Model):
  """`num_discriminators` identical PatchGANs on the input at 1, 1/2, 1/4, ... size.

  Between scales: 3x3 average pooling, stride 2, "same" padding; TensorFlow
  leaves the padded zeros out of the average, as pix2pixHD's
  `count_include_pad=False` does (TF pads only bottom/right on even sizes where
  PyTorch pads one pixel on every side, a half-pixel shift of the grid).

  Call: `discriminator(concat([lineart, image], -1))` -> a list (one per scale,
  full size first) of lists of feature maps; the last map of each list is that
  discriminator's logits.

  Args:
    num_discriminators: Number of scales.
    filters, input_channels, norm_epsilon: as `PatchDiscriminator`.
  """

  def __init__(self, num_discriminators=3, filters=(64, 128, 256, 512),
               input_channels=4, norm_epsilon=1e-5, dtype=None, **kwargs):
    if num_discriminators < 1:
      raise ValueError(f"num_discriminators must be >= 1, got {num_discriminators}")
    filters = tuple(int(width) for width in filters)

    # === Layers ===
    self.discriminators = [
        PatchDiscriminator(filters, input_channels, norm_epsilon, dtype=dtype,
                           name=f"discriminator{i}")
        for i in range(num_discriminators)]
    self.downsamples = [
        keras.layers.AveragePooling2D(3, strides=2, padding="same", dtype=dtype,
                                      name=f"downsample{i}")
        for i in range(1, num_discriminators)]

    # === Functional model ===
    inputs = keras.Input((None, None, input_channels), name="lineart_and_image")
    scaled = inputs
    outputs = []
    for i, discriminator in enumerate(self.discriminators):
      if i > 0:
        scaled = self.downsamples[i - 1](scaled)
      outputs.append(discriminator(scaled))
    super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)

    # === Config ===
    self.num_discriminators = num_discriminators
    self.filters = filters
    self.input_channels = input_channels
    self.norm_epsilon = norm_epsilon

  def get_config(self):
    return {**base_config(self),
            "num_discriminators": self.num_discriminators,
            "filters": list(self.filters), "input_channels": self.input_channels,
            "norm_epsilon": self.norm_epsilon}

  @classmethod
  def from_config(cls, config):
    return cls(**deserialize_dtype(config))

