"""Export-only forms of two layers, the same maths in ops TFLite's XNNPack runs fast.

Keras's GroupNormalization (our instance norm, `instance_norm`) reshapes to 5-D
(B, H, W, C, 1) and reduces over three axes; the TFLite converter keeps that
as RESHAPE, 5-D MEAN, SQUARE, NEG, ..., which XNNPack runs ~20x slower than a
4-D mean over height and width (64 channels at 256x256: 428 ms against 19 ms).
ReflectionPadding2D becomes MIRROR_PAD, which XNNPack does not delegate: it
runs in the reference kernel (3x slower than TensorFlow's) and splits the
delegated graph. Inside `tflite_forms(model)` these layers compute the same
values as 4-D mean/variance ops and as edge slices + concats. The Keras
model, its weights, its saved files and its behaviour outside the context do
not change: only the `call` of the layer objects is swapped, then restored.
"""

import contextlib

import keras
from keras import backend, ops

from tfcolor.models.reflection_padding import ReflectionPadding2D


def instance_norm_4d(layer, inputs):
  """`layer` (GroupNormalization with one channel per group) on (B, H, W, C)."""
  dtype = backend.result_type(inputs.dtype, "float32")  # float32 statistics, as Keras
  features = ops.cast(inputs, dtype)
  mean = ops.mean(features, axis=(1, 2), keepdims=True)
  variance = ops.mean(ops.square(features - mean), axis=(1, 2), keepdims=True)
  scale = ops.rsqrt(variance + layer.epsilon)
  if layer.scale:
    scale = scale * ops.cast(layer.gamma, dtype)
  offset = -mean * scale
  if layer.center:
    offset = offset + ops.cast(layer.beta, dtype)
  return ops.cast(features * scale + offset, layer.compute_dtype)


def reflection_pad_slices(layer, inputs):
  """`layer` (ReflectionPadding2D) as edge slices and concats (static H and W).

  Concats of at most `padding` inputs: XNNPack leaves a CONCATENATION of
  seven inputs to the reference kernel.
  """
  pad = layer.padding
  padded = inputs
  for axis in (1, 2):
    size = padded.shape[axis]
    if size is None:
      raise ValueError(f"{layer.name}: the TFLite form needs a static height and "
                       f"width, got shape {padded.shape}")
    lead = (slice(None),) * axis
    pick = lambda index, lead=lead, source=padded: source[lead + (slice(index, index + 1),)]
    before = ops.concatenate([pick(i) for i in range(pad, 0, -1)], axis=axis)
    after = ops.concatenate([pick(size - 1 - i) for i in range(1, pad + 1)], axis=axis)
    padded = ops.concatenate([before, padded, after], axis=axis)
  return padded


def _is_instance_norm(layer):
  return (isinstance(layer, keras.layers.GroupNormalization) and layer.built
          and layer.axis in (-1, 3) and layer.groups == layer.gamma.shape[-1])


def _export_form(layer):
  """The export `call` for `layer`, or None if it keeps its own."""
  if isinstance(layer, ReflectionPadding2D):
    return lambda inputs: reflection_pad_slices(layer, inputs)
  if _is_instance_norm(layer):
    return lambda inputs: instance_norm_4d(layer, inputs)
  return None


@contextlib.contextmanager
def tflite_forms(model):
  """Within the block, `model`'s instance norms and reflection pads use the forms above.

  Trace the function to convert inside the block; the swap is undone on exit.
  """
  swapped = []
  try:
    for layer in model._flatten_layers(include_self=False, recursive=True):  # pylint: disable=protected-access
      form = _export_form(layer)
      if form is not None:
        object.__setattr__(layer, "call", form)
        swapped.append(layer)
    yield len(swapped)
  finally:
    for layer in swapped:
      object.__delattr__(layer, "call")
