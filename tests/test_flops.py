"""Forward FLOP counting from the traced graph, against hand counts."""

import keras
import pytest
import tensorflow as tf

from tfcolor import flops
from tfcolor.models import build_generator, build_vgg19
from model_testlib import TINY_MODEL as TINY


# VGG19 convs up to block4_conv4: (scale divisor, in, out).
_VGG_TO_BLOCK4_CONV4 = [(1, 3, 64), (1, 64, 64), (2, 64, 128), (2, 128, 128),
                        (4, 128, 256), (4, 256, 256), (4, 256, 256), (4, 256, 256),
                        (8, 256, 512), (8, 512, 512), (8, 512, 512), (8, 512, 512)]


def _hand_count(c, height, width):
  """2 x multiply-adds of every conv of DESIGN.md's generator + the VGG hint encoder."""
  conv = lambda scale, k, cin, cout: 2 * (height // scale) * (width // scale) * k * k * cin * cout
  total = conv(1, 7, 5, c.stem_filters)
  widths = (c.stem_filters,) + tuple(c.down_filters)
  for i in range(1, 5):
    total += conv(2 ** i, 3, widths[i - 1], widths[i])
  total += sum(conv(scale, 3, cin, cout) for scale, cin, cout in _VGG_TO_BLOCK4_CONV4)
  mid, hint, attention = c.down_filters[-1], c.csa_hint_filters, c.csa_attention_filters
  block = (2 * conv(16, 3, mid, mid) + conv(16, 3, 512, hint) + 2 * conv(16, 3, hint, hint)
           + conv(16, 3, mid + hint, attention) + conv(16, 3, attention, 1))
  total += c.num_mid_blocks * block
  previous = mid
  for i, (up, skip) in enumerate(zip(c.up_filters, reversed(widths[:4]))):
    in_scale, out_scale = 2 ** (4 - i), 2 ** (3 - i)
    total += 2 * (height // in_scale) * (width // in_scale) * previous * 9 * up  # transposed
    total += conv(out_scale, 3, up + skip, up)
    previous = up
  return total + conv(1, 7, previous, 3)


@pytest.fixture(scope="module")
def generator():
  return build_generator(TINY, build_vgg19("none"))


@pytest.mark.large
@pytest.mark.parametrize("height,width", [(32, 32), (32, 48)])
def test_generator_flops_match_hand_count(generator, height, width):
  assert flops.generator_flops(generator, height, width) == _hand_count(TINY, height, width)
  assert flops.generator_flops(generator, height, width, batch_size=2) == 2 * _hand_count(
      TINY, height, width)


def test_matmul_flops():
  dense = keras.Sequential([keras.Input((7,)), keras.layers.Dense(5)])
  assert flops.forward_flops(dense, [tf.TensorSpec((3, 7))]) == 2 * 3 * 7 * 5


def test_unknown_sizes_are_refused():
  conv = keras.layers.Conv2D(2, 3)
  with pytest.raises(ValueError, match="not fully known"):
    flops.forward_flops(conv, [tf.TensorSpec((1, None, None, 3))])


def test_nested_functions_are_counted():
  inner = tf.function(lambda x: tf.linalg.matmul(x, tf.ones((4, 6))))
  outer = lambda x: inner(x) + inner(x)
  assert flops.forward_flops(outer, [tf.TensorSpec((2, 4))]) == 2 * (2 * 2 * 4 * 6)


def test_filter_gradient_flops_count_weight_gradients_only():
  conv = keras.layers.Conv2D(5, 3, padding="same")
  conv.build((1, 8, 8, 2))

  @tf.function(autograph=False)
  def weight_gradient(x):
    with tf.GradientTape() as tape:
      loss = tf.reduce_sum(conv(x))
    return tape.gradient(loss, conv.kernel)

  graph = weight_gradient.get_concrete_function(
      tf.TensorSpec((1, 8, 8, 2), tf.float32)).graph
  # One multiply-add per output gradient element, kernel tap and input channel.
  assert flops.graph_flops(graph, flops.filter_gradient_flops) == 2 * (8 * 8 * 5) * 3 * 3 * 2
  assert flops.filter_gradient_flops(graph.get_operations()[0]) == 0
