"""Instance normalisation as Keras 3 provides it.

tensorflow-addons (the usual source of InstanceNormalization) is end-of-life and
does not import with Keras 3. GroupNormalization with one group per channel
normalises each channel of each example over its spatial positions, which is
instance normalisation; it keeps a learned per-channel scale and offset
(PyTorch's `InstanceNorm2d(affine=True)`), and it computes its statistics in
float32 under mixed precision.
"""

import keras


def instance_norm(epsilon=1e-5, name=None, dtype=None):
  """A new instance-norm layer; epsilon 1e-5 is PyTorch's default."""
  return keras.layers.GroupNormalization(
      groups=-1, epsilon=epsilon, name=name, dtype=dtype)
