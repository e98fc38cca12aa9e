"""Export-only forms of four layers, the same maths in ops TFLite's XNNPack runs fast.

Keras's GroupNormalization (our instance norm, `instance_norm`) reshapes to 5-D
(B, H, W, C, 1) and reduces over three axes; the TFLite converter keeps that
as RESHAPE, 5-D MEAN, SQUARE, NEG, ..., which XNNPack runs ~20x slower than a
4-D mean over height and width (64 channels at 256x256: 428 ms against 19 ms),
and whose (x - mean)^2 is a SUB and a MUL: as SQUARED_DIFFERENCE it has no
int8 XNNPack kernel and ran in the reference one (int8 norms 2.3x slower than
TensorFlow's float32 instead of 0.13-0.24x).
ReflectionPadding2D becomes MIRROR_PAD, which XNNPack does not delegate: it
runs in the reference kernel (3x slower than TensorFlow's) and splits the
delegated graph. Conv2DTranspose becomes TRANSPOSE_CONV, 1.3-2.5x slower in
XNNPack than TensorFlow; as four stride-1 convs (one per output phase) and
DEPTH_TO_SPACE it is 1.0-2.3x faster than TensorFlow. A 3x3 Conv2D over more
than 512 input channels is ~2x slower than TensorFlow in XNNPack (its weight
panels outgrow the L2 cache); as convs over 256-channel groups, summed, it
is faster than TensorFlow. (`tfcolor.benchmarks.tflite_profile` measures
each layer; docs/deployment.md has the figures.) Inside `tflite_forms(model)`
these layers compute the same values in those forms. The Keras model, its
weights, its saved files and its behaviour outside the context do not
change: only the `call` of the layer objects is swapped, then restored.
"""

import contextlib

import keras
from keras import backend, ops
import numpy as np
import tensorflow as tf

from tfcolor.models.reflection_padding import ReflectionPadding2D


def instance_norm_4d(layer, inputs):
  """`layer` (GroupNormalization with one channel per group) on (B, H, W, C)."""
  dtype = backend.result_type(inputs.dtype, "float32")  # float32 statistics, as Keras
  features = ops.cast(inputs, dtype)
  mean = ops.mean(features, axis=(1, 2), keepdims=True)
  centered = features - mean
  variance = ops.mean(centered * centered, axis=(1, 2), keepdims=True)
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


# XNNPack's float conv reads its packed weights in panels of (kernel taps x
# input channels) x 16 outputs, once per few output pixels; past 512 input
# channels of a 3x3 kernel a panel outgrows the 512 KB L2 cache and the conv
# runs at half of TensorFlow's speed (3x3 1024 -> 1024 at 16x16: 325 ms
# against TF's 159 ms, 123 ms as four 256-channel convs summed).
MAX_CONV_DEPTH = 9 * 512  # kernel taps x input channels of one conv
SPLIT_CONV_CHANNELS = 256


def _input_cuts(channels):
  """`ops.split`'s sections for `channels` inputs in groups of at most SPLIT_CONV_CHANNELS.

  Equal groups (an int) become SPLIT, which XNNPack delegates; unequal ones
  (indices) SPLIT_V.
  """
  groups = -(-channels // SPLIT_CONV_CHANNELS)
  return (groups if channels % groups == 0 else
          [channels * i // groups for i in range(1, groups)])


def split_kernels(layer):
  """`layer`'s kernel cut along its inputs as `conv_split_inputs` cuts (numpy arrays)."""
  kernel = ops.convert_to_numpy(layer.kernel)
  return np.split(kernel, _input_cuts(kernel.shape[2]), axis=2)


def conv_split_inputs(layer, inputs, kernels=None):
  """`layer` (Conv2D) as convs over groups of `SPLIT_CONV_CHANNELS` input channels, summed.

  The same products; only the order of the float sums differs. `kernels`:
  the kernel's parts (`split_kernels`, held as variables by `tflite_forms`);
  None slices `layer.kernel` in the graph.
  """
  cuts = _input_cuts(inputs.shape[-1])
  if kernels is None:
    kernels = ops.split(layer.kernel, cuts, axis=2)
  outputs = None
  for part, part_kernel in zip(ops.split(inputs, cuts, axis=-1), kernels):
    partial = ops.conv(part, ops.cast(part_kernel, inputs.dtype), strides=layer.strides,
                       padding=layer.padding, dilation_rate=layer.dilation_rate)
    outputs = partial if outputs is None else outputs + partial
  if layer.use_bias:
    outputs = outputs + ops.cast(layer.bias, outputs.dtype)
  return layer.activation(outputs)


def _is_deep_conv(layer):
  return (type(layer) is keras.layers.Conv2D and layer.built and layer.groups == 1  # pylint: disable=unidiomatic-typecheck
          and layer.data_format == "channels_last"
          and layer.kernel.shape[0] * layer.kernel.shape[1] * layer.kernel.shape[2]
          > MAX_CONV_DEPTH)


# Conv2DTranspose (3x3, stride 2, "same") in one dimension: output 2m takes
# kernel taps 2 and 0 from inputs m - 1 and m, output 2m + 1 tap 1 from m.
_PHASE_TAPS = ((2, 0), (1,))


def phase_kernels(layer):
  """The four phase kernels of `transposed_conv_phases` (numpy arrays: kh, kw, in, out)."""
  kernel = np.transpose(ops.convert_to_numpy(layer.kernel), (0, 1, 3, 2))
  return [kernel[np.ix_(row_taps, column_taps)]
          for row_taps in _PHASE_TAPS for column_taps in _PHASE_TAPS]


def transposed_conv_phases(layer, inputs, kernels=None):
  """`layer` (Conv2DTranspose 3x3, stride 2, "same") as four stride-1 convs + depth_to_space.

  Each of the four output phases (even/odd row x even/odd column) is a VALID
  conv with only the kernel taps that reach it (2x2, 2x1, 1x2 and 1x1: the
  transposed conv's 9 taps, no zeros); a phase that reads input m - 1 gets
  one row/column of zeros before. Concatenated phase-major, `depth_to_space`
  interleaves them into the 2H x 2W output. `kernels`: the phase kernels
  (`phase_kernels`, held as variables by `tflite_forms`); None builds them
  from `layer.kernel` in the graph.
  """
  if kernels is None:
    kernel = ops.transpose(layer.kernel, (0, 1, 3, 2))  # kh, kw, in, out
    kernels = [ops.stack([ops.stack([kernel[i, j] for j in column_taps])
                          for i in row_taps])
               for row_taps in _PHASE_TAPS for column_taps in _PHASE_TAPS]
  phases = []
  for (row_taps, column_taps), phase_kernel in zip(
      [(rows, columns) for rows in _PHASE_TAPS for columns in _PHASE_TAPS], kernels):
    padded = ops.pad(inputs, [[0, 0], [len(row_taps) - 1, 0],
                              [len(column_taps) - 1, 0], [0, 0]])
    phases.append(ops.conv(padded, ops.cast(phase_kernel, inputs.dtype), padding="valid"))
  outputs = tf.nn.depth_to_space(ops.concatenate(phases, axis=-1), 2)
  if layer.use_bias:
    outputs = outputs + ops.cast(layer.bias, outputs.dtype)
  return layer.activation(outputs)


def _is_phase_transposed_conv(layer):
  return (isinstance(layer, keras.layers.Conv2DTranspose) and layer.built
          and tuple(layer.kernel_size) == (3, 3) and tuple(layer.strides) == (2, 2)
          and layer.padding == "same" and tuple(layer.dilation_rate) == (1, 1)
          and layer.data_format == "channels_last" and layer.output_padding is None)


def _is_instance_norm(layer):
  return (isinstance(layer, keras.layers.GroupNormalization) and layer.built
          and layer.axis in (-1, 3) and layer.groups == layer.gamma.shape[-1])


def _export_form(layer, split_deep_convs=True):
  """The export `call` for `layer`, or None if it keeps its own."""
  if isinstance(layer, ReflectionPadding2D):
    return lambda inputs: reflection_pad_slices(layer, inputs)
  if _is_instance_norm(layer):
    return lambda inputs: instance_norm_4d(layer, inputs)
  if split_deep_convs and _is_deep_conv(layer):
    kernels = _as_variables(split_kernels(layer))
    return lambda inputs: conv_split_inputs(layer, inputs, kernels)
  if _is_phase_transposed_conv(layer):
    kernels = _as_variables(phase_kernels(layer))
    return lambda inputs: transposed_conv_phases(layer, inputs, kernels)
  return None


def _as_variables(arrays):
  """Re-cut weights as variables of their own, made once, outside the trace.

  The traced graph then reads them as they are: the TFLite converter freezes
  only these, instead of the layer's kernel plus the slices it folds out of
  it (both alive at once: +1.1 GB of conversion peak at the default widths,
  where 0.7 GB of kernels are re-cut). The export archive saves the
  variables its endpoints read, so the unused whole kernels are not saved.
  """
  return [tf.Variable(array, trainable=False) for array in arrays]


@contextlib.contextmanager
def tflite_forms(model, split_deep_convs=True):
  """Within the block, `model`'s layers use the forms above.

  Trace the function to convert inside the block, and save or freeze it there
  too: the re-cut kernels are variables that live as long as the block. The
  swap is undone on exit.
  `split_deep_convs=False` keeps the deep convs whole: int8 weights (1 byte
  each) fit the cache anyway, and in a fully int8 model each partial sum
  would be rounded to int8 before the sum.
  """
  swapped = []
  try:
    for layer in model._flatten_layers(include_self=False, recursive=True):  # pylint: disable=protected-access
      form = _export_form(layer, split_deep_convs)
      if form is not None:
        object.__setattr__(layer, "call", form)
        swapped.append(layer)
    yield len(swapped)
  finally:
    for layer in swapped:
      object.__delattr__(layer, "call")
