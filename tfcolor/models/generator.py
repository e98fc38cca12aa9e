"""The U-Net colorization generator with CSA (or plain ResNet) mid blocks."""

import keras

from tfcolor.models.csa_block import CSABlock
from tfcolor.models.generator_inputs import check_generator_inputs as _check_inputs
from tfcolor.models.instance_norm import instance_norm
from tfcolor.models.reflection_padding import ReflectionPadding2D
from tfcolor.models.resnet_block import ResnetBlock
from tfcolor.models.serialization import base_config, deserialize_dtype
from tfcolor.models.vgg import HintEncoder

MID_BLOCKS = ("csa", "resnet")


@keras.saving.register_keras_serializable(package="tfcolor")
class ColorizationGenerator(keras.Model):
  """Line art + colour hints -> colour image in [-1, 1] (DESIGN.md, Generator).

  Inputs: a dict {"lineart": (B, H, W, 1), "hints": (B, H, W, 4)} with H and W
  multiples of 16 (any size, also unknown when traced). Output (B, H, W, 3),
  float32 under every dtype policy.

    stem:  concat(lineart, hints) 5ch -> reflect pad 3, conv7x7 -> IN -> ReLU   E0
    down:  4x conv3x3 stride 2 -> IN -> ReLU                                E1..E4
    mid:   num_mid_blocks CSABlock(x, F) (or ResnetBlock(x)) at 1/16 size
    up:    4x [transposed conv3x3 stride 2 -> IN -> ReLU, concat skip E3..E0,
               conv3x3 -> IN -> ReLU]
    head:  reflect pad 3, conv7x7 -> 3ch -> tanh (float32)

  F is the frozen VGG19 hint feature (HintEncoder), computed once per forward
  and shared by all CSA blocks. `attention_maps(inputs)` returns each CSA
  block's attention map.

  Args:
    vgg: The shared frozen VGG19 (`build_vgg19`); `self.vgg`. The "resnet"
      variant keeps it (the perceptual loss uses it) but does not run it.
    mid_block: "csa" (the paper's model) or "resnet" (the "w/o module" ablation).
    stem_filters, down_filters, num_mid_blocks, csa_hint_filters,
    csa_attention_filters, up_filters, norm_epsilon: as in `ModelConfig`.
  """

  def __init__(self, vgg, mid_block="csa", stem_filters=64,
               down_filters=(128, 256, 512, 1024), num_mid_blocks=8,
               csa_hint_filters=256, csa_attention_filters=256,
               up_filters=(512, 256, 128, 64), norm_epsilon=1e-5, dtype=None,
               **kwargs):
    if mid_block not in MID_BLOCKS:
      raise ValueError(f"mid_block must be one of {MID_BLOCKS}, got {mid_block!r}")
    down_filters, up_filters = tuple(down_filters), tuple(up_filters)
    if len(down_filters) != 4 or len(up_filters) != 4:
      raise ValueError("down_filters and up_filters need 4 widths each, got "
                       f"{down_filters} and {up_filters}")

    # === Layers ===
    conv = lambda width, name, **kw: keras.layers.Conv2D(
        width, 3, padding="same", dtype=dtype, name=name, **kw)
    norm = lambda name: instance_norm(norm_epsilon, name=name, dtype=dtype)
    self.hint_encoder = HintEncoder(vgg, name="hint_encoder")
    self.hint_encoder.build((None, None, None, 4))  # built even where unused (resnet)
    self.stem_concat = keras.layers.Concatenate(dtype=dtype, name="stem_inputs")
    self.stem_pad = ReflectionPadding2D(3, dtype=dtype, name="stem_pad")
    self.stem_conv = keras.layers.Conv2D(stem_filters, 7, dtype=dtype, name="stem_conv")
    self.stem_norm = norm("stem_norm")
    self.stem_relu = keras.layers.ReLU(dtype=dtype, name="stem_relu")
    self.down_convs = [conv(width, f"down{i}_conv", strides=2)
                       for i, width in enumerate(down_filters, 1)]
    self.down_norms = [norm(f"down{i}_norm") for i in range(1, 5)]
    self.down_relus = [keras.layers.ReLU(dtype=dtype, name=f"down{i}_relu")
                       for i in range(1, 5)]
    mid_width = down_filters[-1]
    if mid_block == "csa":
      self.mid_blocks = [
          CSABlock(mid_width, csa_hint_filters, csa_attention_filters, norm_epsilon,
                   dtype=dtype, name=f"csa_block{i}")
          for i in range(1, num_mid_blocks + 1)]
    else:
      self.mid_blocks = [ResnetBlock(mid_width, norm_epsilon, dtype=dtype,
                                     name=f"resnet_block{i}")
                         for i in range(1, num_mid_blocks + 1)]
    self.up_transposes = [
        keras.layers.Conv2DTranspose(width, 3, strides=2, padding="same", dtype=dtype,
                                     name=f"up{i}_transpose")
        for i, width in enumerate(up_filters, 1)]
    self.up_transpose_norms = [norm(f"up{i}_transpose_norm") for i in range(1, 5)]
    self.up_transpose_relus = [keras.layers.ReLU(dtype=dtype, name=f"up{i}_transpose_relu")
                               for i in range(1, 5)]
    self.up_skip_concats = [keras.layers.Concatenate(dtype=dtype, name=f"up{i}_skip")
                            for i in range(1, 5)]
    self.up_convs = [conv(width, f"up{i}_conv") for i, width in enumerate(up_filters, 1)]
    self.up_norms = [norm(f"up{i}_norm") for i in range(1, 5)]
    self.up_relus = [keras.layers.ReLU(dtype=dtype, name=f"up{i}_relu") for i in range(1, 5)]
    self.head_pad = ReflectionPadding2D(3, dtype=dtype, name="head_pad")
    self.head_conv = keras.layers.Conv2D(3, 7, dtype=dtype, name="head_conv")
    # The image leaves in float32 under mixed precision (losses, serving).
    self.head_tanh = keras.layers.Activation("tanh", dtype="float32", name="head_tanh")

    # === Functional model ===
    inputs = {"lineart": keras.Input((None, None, 1), name="lineart"),
              "hints": keras.Input((None, None, 4), name="hints")}
    outputs, _ = self._forward(inputs, mid_block == "csa", return_attention=False)
    super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)

    # === Config ===
    self.mid_block = mid_block
    self.stem_filters = stem_filters
    self.down_filters = down_filters
    self.num_mid_blocks = num_mid_blocks
    self.csa_hint_filters = csa_hint_filters
    self.csa_attention_filters = csa_attention_filters
    self.up_filters = up_filters
    self.norm_epsilon = norm_epsilon

  @property
  def vgg(self):
    """The frozen VGG19 shared with the perceptual loss."""
    return self.hint_encoder.vgg

  def _forward(self, inputs, use_hints, return_attention):
    """The network, written once: builds the graph and serves `attention_maps`."""
    stem_inputs = self.stem_concat([inputs["lineart"], inputs["hints"]])
    features = self.stem_relu(self.stem_norm(self.stem_conv(self.stem_pad(stem_inputs))))
    skips = [features]
    for down_conv, down_norm, down_relu in zip(self.down_convs, self.down_norms,
                                               self.down_relus):
      features = down_relu(down_norm(down_conv(features)))
      skips.append(features)
    attention_maps = []
    if use_hints:
      hint_feature = self.hint_encoder(inputs["hints"])
      for block in self.mid_blocks:
        features, attention = block(features, hint_feature, return_attention=True)
        attention_maps.append(attention)
    else:
      for block in self.mid_blocks:
        features = block(features)
    for up, skip in enumerate(reversed(skips[:-1])):  # E3, E2, E1, E0
      features = self.up_transposes[up](features)
      features = self.up_transpose_relus[up](self.up_transpose_norms[up](features))
      features = self.up_skip_concats[up]([features, skip])
      features = self.up_relus[up](self.up_norms[up](self.up_convs[up](features)))
    image = self.head_tanh(self.head_conv(self.head_pad(features)))
    return image, (attention_maps if return_attention else None)

  def attention_maps(self, inputs, training=False):
    """Each CSA block's attention map, (B, H/16, W/16, 1) in [0, 1], first block first.

    Runs the same layers as `__call__` (eagerly or inside a tf.function).
    """
    del training  # no layer behaves differently in training
    if self.mid_block != "csa":
      raise ValueError(f"{self.name}: a '{self.mid_block}' generator has no "
                       "attention maps (only mid_block='csa' has)")
    _check_inputs(inputs)
    _, maps = self._forward(inputs, use_hints=True, return_attention=True)
    return maps

  def call(self, inputs, training=None, mask=None, **kwargs):
    _check_inputs(inputs)
    return super().call(inputs, training=training, mask=mask, **kwargs)

  def get_config(self):
    # Not Functional's graph config: the constructor rebuilds the graph.
    config = base_config(self)
    config.update({
        "vgg": keras.saving.serialize_keras_object(self.vgg),
        "mid_block": self.mid_block,
        "stem_filters": self.stem_filters,
        "down_filters": list(self.down_filters),
        "num_mid_blocks": self.num_mid_blocks,
        "csa_hint_filters": self.csa_hint_filters,
        "csa_attention_filters": self.csa_attention_filters,
        "up_filters": list(self.up_filters),
        "norm_epsilon": self.norm_epsilon,
    })
    return config

  @classmethod
  def from_config(cls, config):
    config = deserialize_dtype(config)
    config["vgg"] = keras.saving.deserialize_keras_object(config["vgg"])
    return cls(**config)
