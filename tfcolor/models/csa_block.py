"""Concatenation and Spatial Attention block (Yuan & Simo-Serra 2021, Fig. 1)."""

import keras
from keras import ops

from tfcolor.models.resnet_block import ResnetBlock


@keras.saving.register_keras_serializable(package="tfcolor")
class CSABlock(ResnetBlock):
  """A residual block whose branch is gated by a map computed from the hints.

    r = conv3x3(C) -> IN -> ReLU -> conv3x3(C) -> IN                  (on x)
    h = conv3x3(hint, stride 2) -> ReLU -> conv3x3(hint) -> ReLU -> conv3x3(hint)
                                                         (on the VGG feature F)
    a = sigmoid(conv3x3(1)(ReLU(conv3x3(attention)(concat(r, h)))))
    out = x + r * a

  F is the hint encoder's feature at 1/8 of the image size, x is at 1/16; the
  stride-2 conv brings F to x's size. Each block has its own hint convs.

  Args:
    filters: Channels of x (in and out).
    hint_filters: Width of the three convs on F.
    attention_filters: Width of the conv before the 1-channel attention map.
    norm_epsilon: Instance norm epsilon of the residual branch.
  """

  def __init__(self, filters, hint_filters=256, attention_filters=256,
               norm_epsilon=1e-5, **kwargs):
    super().__init__(filters, norm_epsilon=norm_epsilon, **kwargs)
    self.hint_filters = int(hint_filters)
    self.attention_filters = int(attention_filters)
    conv = lambda width, name, **kw: keras.layers.Conv2D(
        width, 3, padding="same", dtype=self.dtype_policy, name=name, **kw)
    self.hint_conv1 = conv(self.hint_filters, "hint_conv1", strides=2, activation="relu")
    self.hint_conv2 = conv(self.hint_filters, "hint_conv2", activation="relu")
    self.hint_conv3 = conv(self.hint_filters, "hint_conv3")
    self.attention_conv1 = conv(self.attention_filters, "attention_conv1",
                                activation="relu")
    self.attention_conv2 = conv(1, "attention_conv2", activation="sigmoid")

  def build(self, inputs_shape, hint_feature_shape):
    self._check_width(inputs_shape)
    self._build_residual(inputs_shape)
    half = lambda size: None if size is None else (size + 1) // 2
    hint_shape = (hint_feature_shape[0], half(hint_feature_shape[1]),
                  half(hint_feature_shape[2]), self.hint_filters)
    self.hint_conv1.build(hint_feature_shape)
    self.hint_conv2.build(hint_shape)
    self.hint_conv3.build(hint_shape)
    spatial = tuple(inputs_shape[:-1])
    self.attention_conv1.build(spatial + (self.filters + self.hint_filters,))
    self.attention_conv2.build(spatial + (self.attention_filters,))

  def hint_branch(self, hint_feature):
    """h(F): the hint feature brought to x's size and this block's width."""
    return self.hint_conv3(self.hint_conv2(self.hint_conv1(hint_feature)))

  def call(self, inputs, hint_feature, return_attention=False):
    branch = self.residual(inputs)
    hint = self.hint_branch(hint_feature)
    attention = self.attention_conv2(
        self.attention_conv1(ops.concatenate([branch, hint], axis=-1)))
    outputs = inputs + branch * attention
    return (outputs, attention) if return_attention else outputs

  def compute_output_spec(self, inputs, hint_feature, return_attention=False):
    outputs = keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)
    if not return_attention:
      return outputs
    return outputs, keras.KerasTensor(tuple(inputs.shape[:-1]) + (1,),
                                      dtype=self.compute_dtype)

  def get_config(self):
    config = super().get_config()
    config.update({"hint_filters": self.hint_filters,
                   "attention_filters": self.attention_filters})
    return config
