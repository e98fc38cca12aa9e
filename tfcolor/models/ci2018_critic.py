"""The WGAN-GP critic of Ci et al. 2018 (`--discriminator=ci2018_critic`).

Layout after the authors' public PyTorch code (orashi/AlacGAN, models/standard.py,
NetD), written anew in Keras; see docs/model.md "Table 1 baselines".
"""

import keras

from tfcolor.models.ci2018_layers import LEAKY_SLOPE, ResNeXtBlock
from tfcolor.models.local_features import (LocalFeatures, deserialize_feature_model,
                                            serialize_feature_model)
from tfcolor.models.serialization import base_config, deserialize_dtype

CRITIC_CARDINALITY = 8


@keras.saving.register_keras_serializable(package="tfcolor")
class Ci2018Critic(keras.Model):
  """concat(lineart, image) (B, H, W, 4) -> [[f1, f2, f3, f4, f5, score]]. f = filters.

    stem:    conv7x7 f, LReLU; conv4x4 s2 f, LReLU                       f1 (1/2)
    stage 1: ResNeXt(f), ResNeXt(f, s2); conv1x1 2f, LReLU               f2 (1/4)
    stage 2: ResNeXt(2f), ResNeXt(2f, s2); conv1x1 4f, LReLU             f3 (1/8)
    stage 3: ResNeXt(4f), ResNeXt(4f, s2)                                f4 (1/16)
    head:    [concat local features] conv3x3 8f, LReLU;
             3x [ResNeXt(8f), ResNeXt(8f, s2)] (1/32 .. 1/128); ResNeXt(8f);
             conv4x4 8f, LReLU                                           f5
    score:   global average pool -> dense 1 (float32)                    (B, 1)

  ResNeXt blocks have 8 groups; convs have no bias and pad "same"; no
  normalisation at all, so each example's score depends on that example only
  (the gradient penalty is per example). Deviations from the paper: the stem
  also sees the line art (4 channels, the project's discriminator input; the
  paper's critic sees the colour image and is conditioned only through the
  local features at 1/16); and the last 4x4 conv pads "same" and is averaged
  over positions before the dense layer, where the paper's runs "valid" on the
  4x4 map of a 512-px input to one position. Same parameter count; any size
  works (the paper's needs at least 512 px).

  The output follows `MultiScaleDiscriminator`'s format (one critic): a list
  holding the list of the five feature maps (feature matching) and the score.

  Args:
    local_features: None or the frozen feature network (`load_local_features`);
      when given, its features of the line art join the head as in the paper.
    filters: ndf (the paper's 64); must be even.
  """

  def __init__(self, local_features=None, filters=64, dtype=None, **kwargs):
    filters = int(filters)
    if filters < 2 or filters % 2:
      raise ValueError(f"Ci2018Critic: filters must be even and >= 2, got {filters}")

    # === Layers ===
    def conv(width, kernel, name, strides=1):
      return keras.layers.Conv2D(width, kernel, strides=strides, padding="same",
                                 use_bias=False, dtype=dtype, name=name)

    def lrelu(name):
      return keras.layers.LeakyReLU(LEAKY_SLOPE, dtype=dtype, name=name)

    def resnext_pair(width, name):
      return [ResNeXtBlock(width, CRITIC_CARDINALITY, dtype=dtype, name=f"{name}_block1"),
              ResNeXtBlock(width, CRITIC_CARDINALITY, strides=2, dtype=dtype,
                           name=f"{name}_block2")]

    self.local_features = (None if local_features is None else
                           LocalFeatures(local_features, name="local_features"))
    self.stem_convs = [conv(filters, 7, "stem_conv1"), conv(filters, 4, "stem_conv2", 2)]
    self.stem_lrelus = [lrelu("stem_lrelu1"), lrelu("stem_lrelu2")]
    self.stage_blocks = [resnext_pair(width, f"stage{i}")
                         for i, width in enumerate((filters, 2 * filters, 4 * filters), 1)]
    self.stage_convs = [conv(2 * filters, 1, "stage1_conv"),
                        conv(4 * filters, 1, "stage2_conv")]
    self.stage_lrelus = [lrelu("stage1_lrelu"), lrelu("stage2_lrelu")]
    self.head_concat = (None if self.local_features is None else
                        keras.layers.Concatenate(dtype=dtype, name="head_inputs"))
    self.head_in_conv = conv(8 * filters, 3, "head_in_conv")
    self.head_in_lrelu = lrelu("head_in_lrelu")
    self.head_blocks = (
        [block for i in range(1, 4) for block in resnext_pair(8 * filters, f"head{i}")]
        + [ResNeXtBlock(8 * filters, CRITIC_CARDINALITY, dtype=dtype, name="head_block")])
    self.head_out_conv = conv(8 * filters, 4, "head_out_conv")
    self.head_out_lrelu = lrelu("head_out_lrelu")
    self.score_pool = keras.layers.GlobalAveragePooling2D(dtype=dtype, name="score_pool")
    # The score leaves in float32 under mixed precision.
    self.score_dense = keras.layers.Dense(1, dtype="float32", name="score")

    # === Functional model ===
    inputs = keras.Input((None, None, 4), name="lineart_and_image")
    feature_maps = []
    features = self.stem_lrelus[0](self.stem_convs[0](inputs))
    features = self.stem_lrelus[1](self.stem_convs[1](features))
    feature_maps.append(features)
    for i, blocks in enumerate(self.stage_blocks):
      for block in blocks:
        features = block(features)
      if i < 2:
        features = self.stage_lrelus[i](self.stage_convs[i](features))
      feature_maps.append(features)
    if self.local_features is not None:
      features = self.head_concat([features, self.local_features(inputs[..., :1])])
    features = self.head_in_lrelu(self.head_in_conv(features))
    for block in self.head_blocks:
      features = block(features)
    features = self.head_out_lrelu(self.head_out_conv(features))
    feature_maps.append(features)
    score = self.score_dense(self.score_pool(features))
    # Flat outputs here; `call` nests them (a one-element outer list would be
    # unpacked by Functional).
    super().__init__(inputs=inputs, outputs=feature_maps + [score], dtype=dtype,
                     **kwargs)

    # === Config ===
    self.filters = filters

  def call(self, inputs, training=None, mask=None, **kwargs):
    return [list(super().call(inputs, training=training, mask=mask, **kwargs))]

  def compute_output_spec(self, inputs, training=None, mask=None):
    return [list(super().compute_output_spec(inputs, training=training, mask=mask))]

  def get_config(self):
    return {**base_config(self),
            "local_features": serialize_feature_model(self.local_features),
            "filters": self.filters}

  @classmethod
  def from_config(cls, config):
    config = deserialize_dtype(config)
    config["local_features"] = deserialize_feature_model(config.get("local_features"))
    return cls(**config)
