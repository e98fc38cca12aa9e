"""Forward FLOPs of a Keras model, counted from its traced TensorFlow graph.

We count 2 FLOPs per multiply-accumulate of every convolution, transposed
convolution and matrix multiply in the graph, with shapes fixed by the input
signature. Norms, activations, padding, pooling and bias adds are left out
(well under 1% of the generator). Tracing does not run the model, so large
sizes cost only the trace. Whatever the model calls is counted: the
generator's count includes the VGG19 hint encoder (block1_conv1..block4_conv4).
"""

import numpy as np
import tensorflow as tf

_CALL_OPS = ("PartitionedCall", "StatefulPartitionedCall")


def _static_dims(tensor, op):
  dims = tensor.shape.as_list()
  if any(dim is None for dim in dims):
    raise ValueError(f"cannot count FLOPs of {op.type} op {op.name}: shape "
                     f"{dims} is not fully known; trace with a fixed input size")
  return dims


def _op_flops(op):
  if op.type == "Conv2D":  # inputs: input, filter (kh, kw, in, out)
    kernel_h, kernel_w, in_channels, _ = _static_dims(op.inputs[1], op)
    return 2 * int(np.prod(_static_dims(op.outputs[0], op))) * kernel_h * kernel_w * in_channels
  if op.type == "Conv2DBackpropInput":  # transposed conv; filter (kh, kw, out, in)
    kernel_h, kernel_w, out_channels, _ = _static_dims(op.inputs[1], op)
    transpose_input = _static_dims(op.inputs[2], op)
    return 2 * int(np.prod(transpose_input)) * kernel_h * kernel_w * out_channels
  if op.type == "DepthwiseConv2dNative":  # filter (kh, kw, in, multiplier)
    kernel_h, kernel_w, _, _ = _static_dims(op.inputs[1], op)
    return 2 * int(np.prod(_static_dims(op.outputs[0], op))) * kernel_h * kernel_w
  if op.type == "MatMul":
    rows, inner = _static_dims(op.inputs[0], op)
    if op.get_attr("transpose_a"):
      rows, inner = inner, rows
    columns = _static_dims(op.outputs[0], op)[1]
    return 2 * rows * inner * columns
  return 0


def filter_gradient_flops(op):
  """FLOPs of a Conv2DBackpropFilter op (a weight gradient); 0 for other ops.

  Not counted by default: a forward pass has none. Training benchmarks add them
  with `graph_flops(graph, op_flops=filter_gradient_flops)`.
  """
  if op.type != "Conv2DBackpropFilter":
    return 0
  kernel_h, kernel_w, in_channels, _ = _static_dims(op.outputs[0], op)
  return (2 * int(np.prod(_static_dims(op.inputs[2], op)))
          * kernel_h * kernel_w * in_channels)


def graph_flops(graph, op_flops=_op_flops):
  """Sum of `op_flops(op)` over `graph`, including called functions.

  The default counts the conv / matmul ops of a forward (and input-gradient) pass.
  """
  total = 0
  for op in graph.get_operations():
    if op.type in _CALL_OPS:
      function = graph._get_function(op.get_attr("f").name)  # pylint: disable=protected-access
      total += graph_flops(function.graph, op_flops)
    else:
      total += op_flops(op)
  return total


def forward_flops(fn, input_signature):
  """FLOPs of one call of `fn` (e.g. a Keras model) on `input_signature` specs."""
  concrete = tf.function(fn, autograph=False).get_concrete_function(*input_signature)
  return graph_flops(concrete.graph)


def generator_flops(generator, height, width=None, batch_size=1):
  """Forward FLOPs of the colorization generator for one batch at height x width."""
  width = height if width is None else width
  signature = {"lineart": tf.TensorSpec((batch_size, height, width, 1), tf.float32),
               "hints": tf.TensorSpec((batch_size, height, width, 4), tf.float32)}
  return forward_flops(lambda inputs: generator(inputs, training=False), [signature])
