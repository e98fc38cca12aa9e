"""pix2pixHD's global generator "G1" (Wang et al. 2018), the first row of Table 1."""

import keras

from tfcolor.models.generator_inputs import check_generator_inputs
from tfcolor.models.instance_norm import instance_norm
from tfcolor.models.reflection_padding import ReflectionPadding2D
from tfcolor.models.resnet_block import ResnetBlock
from tfcolor.models.serialization import base_config, deserialize_dtype


@keras.saving.register_keras_serializable(package="tfcolor")
class Pix2PixHDGenerator(keras.Model):
  """Line art + colour hints -> colour image in [-1, 1], without skips or VGG.

    stem:  concat(lineart, hints) 5ch -> reflect pad 3, conv7x7 -> IN -> ReLU
    down:  4x conv3x3 stride 2 -> IN -> ReLU                 (down_filters)
    mid:   num_mid_blocks ResnetBlock at 1/16 size           (down_filters[-1])
    up:    4x transposed conv3x3 stride 2 -> IN -> ReLU      (up_filters)
    head:  reflect pad 3, conv7x7 -> 3ch -> tanh (float32)

  The same inputs and outputs as `ColorizationGenerator` (dict of "lineart"
  (B, H, W, 1) and "hints" (B, H, W, 4), H and W multiples of 16, also unknown
  when traced; output (B, H, W, 3) float32), so the trainer, export and
  evaluation treat both alike. The Table 1 config uses pix2pixHD's ngf=64 widths
  (this class's defaults) and 9 blocks.

  Args:
    stem_filters, down_filters, num_mid_blocks, up_filters, norm_epsilon: as in
      `ModelConfig`.
  """

  def __init__(self, stem_filters=64, down_filters=(128, 256, 512, 1024),
               num_mid_blocks=9, up_filters=(512, 256, 128, 64), norm_epsilon=1e-5,
               dtype=None, **kwargs):
    down_filters = tuple(int(width) for width in down_filters)
    up_filters = tuple(int(width) for width in up_filters)
    if len(down_filters) != 4 or len(up_filters) != 4:
      raise ValueError("down_filters and up_filters need 4 widths each, got "
                       f"{down_filters} and {up_filters}")

    # === Layers ===
    norm = lambda name: instance_norm(norm_epsilon, name=name, dtype=dtype)
    relu = lambda name: keras.layers.ReLU(dtype=dtype, name=name)
    self.stem_concat = keras.layers.Concatenate(dtype=dtype, name="stem_inputs")
    self.stem_pad = ReflectionPadding2D(3, dtype=dtype, name="stem_pad")
    self.stem_conv = keras.layers.Conv2D(stem_filters, 7, dtype=dtype, name="stem_conv")
    self.stem_norm = norm("stem_norm")
    self.stem_relu = relu("stem_relu")
    self.down_convs = [
        keras.layers.Conv2D(width, 3, strides=2, padding="same", dtype=dtype,
                            name=f"down{i}_conv")
        for i, width in enumerate(down_filters, 1)]
    self.down_norms = [norm(f"down{i}_norm") for i in range(1, 5)]
    self.down_relus = [relu(f"down{i}_relu") for i in range(1, 5)]
    self.mid_blocks = [ResnetBlock(down_filters[-1], norm_epsilon, dtype=dtype,
                                   name=f"resnet_block{i}")
                       for i in range(1, num_mid_blocks + 1)]
    self.up_transposes = [
        keras.layers.Conv2DTranspose(width, 3, strides=2, padding="same", dtype=dtype,
                                     name=f"up{i}_transpose")
        for i, width in enumerate(up_filters, 1)]
    self.up_norms = [norm(f"up{i}_norm") for i in range(1, 5)]
    self.up_relus = [relu(f"up{i}_relu") for i in range(1, 5)]
    self.head_pad = ReflectionPadding2D(3, dtype=dtype, name="head_pad")
    self.head_conv = keras.layers.Conv2D(3, 7, dtype=dtype, name="head_conv")
    # The image leaves in float32 under mixed precision (losses, serving).
    self.head_tanh = keras.layers.Activation("tanh", dtype="float32", name="head_tanh")

    # === Functional model ===
    inputs = {"lineart": keras.Input((None, None, 1), name="lineart"),
              "hints": keras.Input((None, None, 4), name="hints")}
    features = self.stem_concat([inputs["lineart"], inputs["hints"]])
    features = self.stem_relu(self.stem_norm(self.stem_conv(self.stem_pad(features))))
    for conv, norm_layer, relu_layer in zip(self.down_convs, self.down_norms,
                                            self.down_relus):
      features = relu_layer(norm_layer(conv(features)))
    for block in self.mid_blocks:
      features = block(features)
    for transpose, norm_layer, relu_layer in zip(self.up_transposes, self.up_norms,
                                                 self.up_relus):
      features = relu_layer(norm_layer(transpose(features)))
    image = self.head_tanh(self.head_conv(self.head_pad(features)))
    super().__init__(inputs=inputs, outputs=image, dtype=dtype, **kwargs)

    # === Config ===
    self.stem_filters = stem_filters
    self.down_filters = down_filters
    self.num_mid_blocks = num_mid_blocks
    self.up_filters = up_filters
    self.norm_epsilon = norm_epsilon

  def call(self, inputs, training=None, mask=None, **kwargs):
    check_generator_inputs(inputs)
    return super().call(inputs, training=training, mask=mask, **kwargs)

  def get_config(self):
    # Not Functional's graph config: the constructor rebuilds the graph.
    return {**base_config(self),
            "stem_filters": self.stem_filters,
            "down_filters": list(self.down_filters),
            "num_mid_blocks": self.num_mid_blocks,
            "up_filters": list(self.up_filters),
            "norm_epsilon": self.norm_epsilon}

  @classmethod
  def from_config(cls, config):
    return cls(**deserialize_dtype(config))
