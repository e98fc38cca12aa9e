"""Ci et al. 2018's local feature network: a frozen pretrained net on the line art.

In the paper it is Illustration2Vec (its first convs, 512 channels at 1/16 of
the 512-px input after a 2x average pool). Here it is any Keras model the user
saves as a `.keras` file that maps line art (B, H, W, 1) in [-1, 1] (white
paper = +1) to features (B, H/16, W/16, C); any resizing, channel replication
or mean subtraction it needs belongs inside that model. Nothing is downloaded:
`--local_features=PATH` names the file, '' disables the branch.

Serialisation: the generator and critic configs hold the feature network's
architecture (like the CSA generator holds its VGG19's), not the path, and its
frozen weights are ordinary (non-trainable) weights of the generator and critic.
So a saved `.keras` generator or a training checkpoint carries the features and
loads without the original file; only `build_generator` / `build_discriminator`
read `--local_features` (a run that is resumed or served from its config.json
needs that file again to build the architecture before the checkpoint restores
the weights).
"""

import os

import keras
from keras import ops
import numpy as np

FEATURE_STRIDE = 16
_PROBE_SIZE = (64, 96)  # height != width, so swapped or wrong strides show


def load_local_features(path):
  """The frozen feature network saved at `path`, or None if `path` is ''.

  Raises:
    FileNotFoundError: no file at `path`.
    ValueError: the file is not a Keras model, or the model does not map
      (1, H, W, 1) line art to one (1, H/16, W/16, C) feature map.
    Every message names --local_features.
  """
  if not path:
    return None
  if not os.path.isfile(path):
    raise FileNotFoundError(
        f"--local_features={path}: no such file (give a .keras model that maps line "
        "art (B, H, W, 1) to features at 1/16 size, or '' to disable the branch)")
  try:
    model = keras.models.load_model(path, compile=False)
  except Exception as error:  # pylint: disable=broad-except
    raise ValueError(f"--local_features={path} is not a Keras model file (.keras) "
                     f"that loads: {type(error).__name__}: {error}") from error
  if not isinstance(model, keras.Model):
    raise ValueError(f"--local_features={path} holds a {type(model).__name__}, not "
                     "a keras.Model")
  check_feature_model(model, f"--local_features={path}")
  model.trainable = False
  return model


def check_feature_model(model, source):
  """Runs `model` on a small probe; raises ValueError naming `source` if unfit.

  Returns the number of feature channels.
  """
  height, width = _PROBE_SIZE
  want = (1, height // FEATURE_STRIDE, width // FEATURE_STRIDE)
  try:
    features = model(np.ones((1, height, width, 1), "float32"), training=False)
  except Exception as error:  # pylint: disable=broad-except
    raise ValueError(f"{source}: the model does not run on line art of shape "
                     f"(1, {height}, {width}, 1): {type(error).__name__}: "
                     f"{error}") from error
  shape = tuple(getattr(features, "shape", ()))
  if len(shape) != 4 or shape[:3] != want:
    got = shape if len(shape) == 4 else type(features).__name__
    raise ValueError(f"{source}: the model must map line art (1, {height}, {width}, "
                     f"1) to one feature map at 1/{FEATURE_STRIDE} size {want + ('C',)}, "
                     f"got {got}")
  return int(shape[-1])


@keras.saving.register_keras_serializable(package="tfcolor")
class LocalFeatures(keras.layers.Layer):
  """Line art (B, H, W, 1) -> the frozen feature network's (B, H/16, W/16, C).

  The network never trains: the layer is not trainable even if a caller sets
  `model.trainable = True` on a model that holds it, and its output carries no
  gradient. It runs in float32 (also under a mixed precision policy); the
  layers that consume its features cast them.

  Args:
    feature_model: the network, e.g. from `load_local_features`.
  """

  def __init__(self, feature_model, **kwargs):
    kwargs.setdefault("dtype", "float32")
    kwargs["trainable"] = False
    super().__init__(**kwargs)
    feature_model.trainable = False
    self.feature_model = feature_model
    self.channels = check_feature_model(feature_model, f"{self.name}: feature_model")

  @property
  def trainable(self):
    return False

  @trainable.setter
  def trainable(self, value):
    del value  # a pretrained feature network stays frozen
    keras.layers.Layer.trainable.fset(self, False)

  def build(self, input_shape):
    self.built = True

  def call(self, lineart):
    return ops.stop_gradient(self.feature_model(lineart, training=False))

  def compute_output_shape(self, input_shape):
    shrink = lambda size: None if size is None else size // FEATURE_STRIDE
    return (input_shape[0], shrink(input_shape[1]), shrink(input_shape[2]),
            self.channels)

  def get_config(self):
    config = super().get_config()
    config.update(
        {"feature_model": keras.saving.serialize_keras_object(self.feature_model)})
    return config

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    config["feature_model"] = keras.saving.deserialize_keras_object(
        config["feature_model"])
    return cls(**config)


def serialize_feature_model(local_features):
  """The config value of a model's optional `LocalFeatures` layer (None if off).

  Generator and critic configs hold the feature network's architecture, not a
  path (see the module docstring); `deserialize_feature_model` inverts this.
  """
  if local_features is None:
    return None
  return keras.saving.serialize_keras_object(local_features.feature_model)


def deserialize_feature_model(config_value):
  """The feature network of a `serialize_feature_model` value (None stays None)."""
  if config_value is None:
    return None
  return keras.saving.deserialize_keras_object(config_value)
