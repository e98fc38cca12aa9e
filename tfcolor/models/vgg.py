"""The one frozen VGG19 that the generator's hint encoder and the perceptual loss share.

Both wrappers run the VGG's own layers by hand, one op per layer, with
`stop_gradient` on every kernel and bias: gradients flow to the input (the
perceptual loss needs d loss / d image) but can never reach the VGG weights,
whatever `trainable` flags a caller sets. The convs run in the wrapper's dtype
policy, float32 by default even under a mixed precision global policy: the
ImageNet features feed a loss made of small differences and the attention of
every CSA block, and bfloat16 would round them to 3 significant digits.
"""

import os

import keras
from keras import ops

HINT_FEATURE_LAYER = "block4_conv4"  # the 12th conv; used before its ReLU
PERCEPTUAL_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1",
                     "block4_conv1", "block5_conv1")  # relu1_1 .. relu5_1


def build_vgg19(weights="imagenet"):
  """VGG19 without its classifier, any input size, frozen.

  Args:
    weights: "imagenet" (Keras downloads the file once into
      $KERAS_HOME/models/, or finds it there offline), "none" (random init, for
      tests and benchmarks) or the path of a weight file such as
      vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5.

  Raises:
    FileNotFoundError: `weights` is a path that does not exist.
  """
  if weights == "none":
    weights = None
  elif weights != "imagenet" and not os.path.exists(weights):
    raise FileNotFoundError(
        f"--vgg_weights={weights}: no such file (give imagenet, none, or the path "
        "of vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5)")
  vgg = keras.applications.VGG19(include_top=False, weights=weights,
                                 input_shape=(None, None, 3))
  vgg.trainable = False
  return vgg


def _vgg_input(rgb_0_255):
  """RGB on [0, 255] -> what VGG19 expects (BGR, ImageNet mean removed)."""
  return keras.applications.vgg19.preprocess_input(rgb_0_255)


def _run_frozen_vgg(vgg, inputs, last_layer, capture=(), linear_last=False):
  """Runs `vgg`'s layers up to `last_layer` with gradient-free weights.

  Returns the outputs of the layers named in `capture`, in that order, or the
  output of `last_layer` if `capture` is empty. `linear_last` skips the ReLU of
  `last_layer`, giving its pre-activation.
  """
  captured = {}
  features = inputs
  for layer in vgg.layers:
    if isinstance(layer, keras.layers.InputLayer):
      continue
    if isinstance(layer, keras.layers.Conv2D):
      kernel = ops.cast(ops.stop_gradient(layer.kernel), features.dtype)
      features = ops.conv(features, kernel, strides=layer.strides,
                          padding=layer.padding, dilation_rate=layer.dilation_rate)
      features = features + ops.cast(ops.stop_gradient(layer.bias), features.dtype)
      if not (linear_last and layer.name == last_layer):
        features = layer.activation(features)
    elif isinstance(layer, keras.layers.MaxPooling2D):
      features = ops.max_pool(features, layer.pool_size, layer.strides, layer.padding)
    else:
      raise TypeError(f"VGG layer {layer.name} ({type(layer).__name__}) is not a "
                      "Conv2D or MaxPooling2D; is this a VGG19?")
    if layer.name in capture:
      captured[layer.name] = features
    if layer.name == last_layer:
      break
  else:
    raise ValueError(f"the VGG model {vgg.name} has no layer {last_layer}")
  return [captured[name] for name in capture] if capture else features


class _FrozenVGGLayer(keras.layers.Layer):
  """Holds the shared VGG19 and keeps it frozen; float32 unless told otherwise."""

  def __init__(self, vgg, **kwargs):
    kwargs.setdefault("dtype", "float32")
    kwargs["trainable"] = False
    super().__init__(**kwargs)
    vgg.trainable = False
    self.vgg = vgg

  @property
  def trainable(self):
    return False

  @trainable.setter
  def trainable(self, value):
    # `model.trainable = True` on a model holding this layer reaches here; the
    # pretrained VGG stays frozen.
    keras.layers.Layer.trainable.fset(self, False)

  def build(self, input_shape):
    self.built = True

  def get_config(self):
    config = super().get_config()
    config.update({"vgg": keras.saving.serialize_keras_object(self.vgg)})
    return config

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    config["vgg"] = keras.saving.deserialize_keras_object(config["vgg"])
    return cls(**config)


@keras.saving.register_keras_serializable(package="tfcolor")
class HintEncoder(_FrozenVGGLayer):
  """Colour hints (B, H, W, 4) -> VGG19 block4_conv4 before ReLU (B, H/8, W/8, 512).

  Hint RGB in [-1, 1] becomes [0, 255]; unhinted pixels (mask 0) are set to the
  ImageNet mean so that after `preprocess_input` they enter VGG as exactly 0.
  The pre-activation is block4_conv4's own kernel and bias applied to
  block4_conv3's output (same weights as the VGG, no copy).
  """

  def call(self, hints):
    hint_rgb, hint_mask = hints[..., :3], hints[..., 3:4]
    rgb_0_255 = (hint_rgb + 1.0) * 127.5
    imagenet_mean_rgb = ops.convert_to_tensor([123.68, 116.779, 103.939],
                                              dtype=rgb_0_255.dtype)
    rgb_0_255 = ops.where(hint_mask > 0.5, rgb_0_255, imagenet_mean_rgb)
    return _run_frozen_vgg(self.vgg, _vgg_input(rgb_0_255), HINT_FEATURE_LAYER,
                           linear_last=True)


@keras.saving.register_keras_serializable(package="tfcolor")
class PerceptualFeatures(_FrozenVGGLayer):
  """Image in [-1, 1] (B, H, W, 3) -> [relu1_1, relu2_1, relu3_1, relu4_1, relu5_1].

  Gradients reach the image, never the VGG weights.
  """

  def call(self, images):
    return _run_frozen_vgg(self.vgg, _vgg_input((images + 1.0) * 127.5),
                           PERCEPTUAL_LAYERS[-1], capture=PERCEPTUAL_LAYERS)
