"""The generator of Ci et al. 2018 ("User-Guided Deep Anime Line Art Colorization with
Conditional Adversarial Networks", ACM MM 2018), the second row of Table 1.

Layout after the authors' public PyTorch code (orashi/AlacGAN, models/standard.py),
written anew in Keras; see docs/model.md "Table 1 baselines" for the deviations.
"""

import keras
from keras import ops

from tfcolor.models.ci2018_layers import LEAKY_SLOPE, PixelShuffle, ResNeXtBlock
from tfcolor.models.generator_inputs import check_generator_inputs
from tfcolor.models.local_features import (LocalFeatures, deserialize_feature_model,
                                            serialize_feature_model)
from tfcolor.models.serialization import base_config, deserialize_dtype

PAPER_BLOCKS = (20, 8, 8, 5)  # ResNeXt blocks per decoder tunnel, 1/16 size first
TUNNEL_CARDINALITY = (32, 32, 32, 16)
HINT_SCALE = 4


def tunnel_dilations(num_blocks, tunnel):
  """Dilations of a tunnel's ResNeXt blocks (tunnel 0 = the 1/16-size one).

  Tunnel 0 keeps dilation 1. The others rise 1, 2, 4 and fall 2, 1: the first
  num_blocks - 2 blocks in three near-equal groups of dilation 1, 2 and 4
  (earlier groups take the remainder), then 2 and 1. For the paper's 8 blocks
  that is 1,1,2,2,4,4,2,1 and for 5 it is 1,2,4,2,1; below 3 blocks the tail
  (2, 1) is cut from the front.
  """
  if tunnel == 0:
    return (1,) * num_blocks
  rising = max(num_blocks - 2, 0)
  sizes = [rising // 3 + (i < rising % 3) for i in range(3)]
  schedule = (1,) * sizes[0] + (2,) * sizes[1] + (4,) * sizes[2] + (2, 1)
  return schedule[len(schedule) - num_blocks:] if num_blocks else ()


@keras.saving.register_keras_serializable(package="tfcolor")
class HintDownsampling(keras.layers.Layer):
  """Full-size sparse hints (B, H, W, 4) -> hints at 1/`scale` size (B, H/s, W/s, 4).

  A cell of scale x scale pixels is hinted if any of its pixels is (mask = max
  over the cell), and its colour is the mean colour of its hinted pixels, so a
  1-pixel hint survives with its exact colour. Unhinted cells are 0, as at full
  size. Computed in float32.
  """

  def __init__(self, scale=HINT_SCALE, **kwargs):
    kwargs.setdefault("dtype", "float32")
    super().__init__(**kwargs)
    self.scale = int(scale)

  def call(self, hints):
    hints = ops.cast(hints, "float32")
    mask = hints[..., 3:]
    pool = lambda values: ops.average_pool(values, self.scale, self.scale, "valid")
    hinted_share = pool(mask)
    colour = ops.divide_no_nan(pool(hints[..., :3] * mask), hinted_share)
    small_mask = ops.cast(hinted_share > 0, "float32")
    return ops.concatenate([colour * small_mask, small_mask], axis=-1)

  def compute_output_shape(self, input_shape):
    shrink = lambda size: None if size is None else size // self.scale
    return (input_shape[0], shrink(input_shape[1]), shrink(input_shape[2]), 4)

  def get_config(self):
    config = super().get_config()
    config.update({"scale": self.scale})
    return config


@keras.saving.register_keras_serializable(package="tfcolor")
class Ci2018Generator(keras.Model):
  """Line art + colour hints -> colour image in [-1, 1] (Ci et al. 2018). f = filters.

    hints:   downsample to 1/4 (HintDownsampling) -> conv7x7 f, LReLU        H
    encoder: conv3x3 f/2 (E0, 1) -> conv4x4 s2 f (E1, 1/2) -> conv4x4 s2 2f
             (E2, 1/4) -> concat H, conv4x4 s2 4f (E3, 1/8) -> conv4x4 s2 8f (E4)
    tunnel 0 (1/16): concat(E4, local features) -> conv3x3 8f, LReLU,
             blocks[0] x ResNeXt(8f, 32 groups) -> conv3x3 16f, pixel shuffle, LReLU
    tunnel 1 (1/8):  concat E3 -> conv3x3 4f, LReLU, blocks[1] x ResNeXt(4f, 32
             groups, dilations 1,1,2,2,4,4,2,1) -> conv3x3 8f, shuffle, LReLU
    tunnel 2 (1/4):  concat E2 -> the same at 2f (32 groups) -> conv3x3 4f, shuffle
    tunnel 3 (1/2):  concat E1 -> the same at f (16 groups, 1,2,4,2,1) -> conv 2f, shuffle
    head:    concat E0 -> conv3x3 3 -> tanh (float32)

  Every LReLU has slope 0.2; convs pad "same" (zeros) and carry biases except
  inside the ResNeXt blocks; there is no normalisation. The same inputs and
  outputs as the other generators (H and W multiples of 16, also unknown when
  traced).

  Args:
    local_features: None (branch off: tunnel 0 sees E4 only) or the frozen
      feature network (`load_local_features`): line art -> (B, H/16, W/16, C).
    filters: ngf (the paper's 64); must be even.
    blocks: ResNeXt blocks in the four tunnels, 1/16 size first.
  """

  def __init__(self, local_features=None, filters=64, blocks=PAPER_BLOCKS, dtype=None,
               **kwargs):
    filters = int(filters)
    blocks = tuple(int(count) for count in blocks)
    if filters < 2 or filters % 2:
      raise ValueError(f"Ci2018Generator: filters must be even and >= 2, got {filters}")
    if len(blocks) != 4 or min(blocks) < 0:
      raise ValueError(f"Ci2018Generator: blocks needs 4 counts >= 0, got {blocks}")

    # === Layers ===
    def conv(width, kernel, name, strides=1):
      return keras.layers.Conv2D(width, kernel, strides=strides, padding="same",
                                 dtype=dtype, name=name)

    def lrelu(name):
      return keras.layers.LeakyReLU(LEAKY_SLOPE, dtype=dtype, name=name)

    self.local_features = (None if local_features is None else
                           LocalFeatures(local_features, name="local_features"))
    self.hint_downsampling = HintDownsampling(name="hint_downsampling")
    self.hint_conv = conv(filters, 7, "hint_conv")
    self.hint_lrelu = lrelu("hint_lrelu")
    encoder_widths = (filters // 2, filters, 2 * filters, 4 * filters, 8 * filters)
    self.encoder_convs = [conv(encoder_widths[0], 3, "encoder0_conv")] + [
        conv(width, 4, f"encoder{i}_conv", strides=2)
        for i, width in enumerate(encoder_widths[1:], 1)]
    self.encoder_lrelus = [lrelu(f"encoder{i}_lrelu") for i in range(5)]
    self.hint_concat = keras.layers.Concatenate(dtype=dtype, name="encoder3_inputs")
    tunnel_widths = (8 * filters, 4 * filters, 2 * filters, filters)
    # Tunnel 0 concatenates only if the local feature branch is on.
    self.tunnel_concats = [
        keras.layers.Concatenate(dtype=dtype, name=f"tunnel{i}_inputs")
        if i > 0 or self.local_features is not None else None for i in range(4)]
    self.tunnel_in_convs = [conv(width, 3, f"tunnel{i}_in_conv")
                            for i, width in enumerate(tunnel_widths)]
    self.tunnel_in_lrelus = [lrelu(f"tunnel{i}_in_lrelu") for i in range(4)]
    self.tunnel_blocks = [
        [ResNeXtBlock(width, TUNNEL_CARDINALITY[i], dilation, dtype=dtype,
                      name=f"tunnel{i}_block{j}")
         for j, dilation in enumerate(tunnel_dilations(blocks[i], i), 1)]
        for i, width in enumerate(tunnel_widths)]
    # Each tunnel ends at half its width and twice its size: 2 * width channels
    # before the 2x pixel shuffle.
    self.tunnel_out_convs = [conv(2 * width, 3, f"tunnel{i}_out_conv")
                             for i, width in enumerate(tunnel_widths)]
    self.tunnel_shuffles = [PixelShuffle(2, dtype=dtype, name=f"tunnel{i}_shuffle")
                            for i in range(4)]
    self.tunnel_out_lrelus = [lrelu(f"tunnel{i}_out_lrelu") for i in range(4)]
    self.head_concat = keras.layers.Concatenate(dtype=dtype, name="head_inputs")
    self.head_conv = conv(3, 3, "head_conv")
    # The image leaves in float32 under mixed precision (losses, serving).
    self.head_tanh = keras.layers.Activation("tanh", dtype="float32", name="head_tanh")

    # === Functional model ===
    inputs = {"lineart": keras.Input((None, None, 1), name="lineart"),
              "hints": keras.Input((None, None, 4), name="hints")}
    hint_features = self.hint_lrelu(self.hint_conv(self.hint_downsampling(inputs["hints"])))
    features = inputs["lineart"]
    skips = []
    for i, (encoder_conv, encoder_lrelu) in enumerate(zip(self.encoder_convs,
                                                          self.encoder_lrelus)):
      if i == 3:
        features = self.hint_concat([features, hint_features])
      features = encoder_lrelu(encoder_conv(features))
      skips.append(features)
    tunnel_inputs = [skips[4]]
    if self.local_features is not None:
      tunnel_inputs.append(self.local_features(inputs["lineart"]))
    for i in range(4):
      if i > 0:
        tunnel_inputs = [features, skips[4 - i]]
      features = (tunnel_inputs[0] if self.tunnel_concats[i] is None
                  else self.tunnel_concats[i](tunnel_inputs))
      features = self.tunnel_in_lrelus[i](self.tunnel_in_convs[i](features))
      for block in self.tunnel_blocks[i]:
        features = block(features)
      features = self.tunnel_shuffles[i](self.tunnel_out_convs[i](features))
      features = self.tunnel_out_lrelus[i](features)
    image = self.head_tanh(self.head_conv(self.head_concat([features, skips[0]])))
    super().__init__(inputs=inputs, outputs=image, dtype=dtype, **kwargs)

    # === Config ===
    self.filters = filters
    self.blocks = blocks

  def call(self, inputs, training=None, mask=None, **kwargs):
    check_generator_inputs(inputs)
    return super().call(inputs, training=training, mask=mask, **kwargs)

  def get_config(self):
    # Not Functional's graph config: the constructor rebuilds the graph. The
    # feature network travels as its architecture (see local_features.py).
    return {**base_config(self),
            "local_features": serialize_feature_model(self.local_features),
            "filters": self.filters, "blocks": list(self.blocks)}

  @classmethod
  def from_config(cls, config):
    config = deserialize_dtype(config)
    config["local_features"] = deserialize_feature_model(config.get("local_features"))
    return cls(**config)
