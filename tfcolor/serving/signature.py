"""The serving module: uint8 images of any size in, uint8 colour image out.

Clients (TF Serving, `tfcolor.colorize`) send what an artist has: 8-bit line
art and an RGBA hint layer whose alpha marks the hinted pixels. This module
turns them into the model's value ranges (DESIGN.md), pads height and width
up to the generator's stride (line art with white paper, hints with "no
hint"), runs the generator and crops back, so every size works. Inputs are
checked in the graph with messages that name the input, so a bad request
fails there and not deep inside a convolution.

Signatures (`SIGNATURES`):
  serving_default: lineart uint8 [B, H, W, 1], hints uint8 [B, H, W, 4]
                   -> image uint8 [B, H, W, 3]
  colorize_float:  the same inputs -> image float32 [B, H, W, 3] in [-1, 1]
                   (before rounding; used to check exports against Keras)

Memory grows with the pixels of a call: at the default widths about 1.4 GB
per megapixel (B x H x W) on CPU, on top of ~1.6 GB for the model
(`tfcolor.benchmarks.page_memory`). Scale large pages down first
(`tfcolor.serving.page_scaling`, `tfcolor.colorize --max_side`).
"""

import tensorflow as tf

from tfcolor.config import SIZE_MULTIPLE

SERVING_SIGNATURE = "serving_default"
FLOAT_SIGNATURE = "colorize_float"
LINEART_KEY, HINTS_KEY, IMAGE_KEY = "lineart", "hints", "image"

# uint8 value of white paper; hints pad with 0 (alpha 0 = not hinted).
_WHITE = 255


def input_specs(height=None, width=None, batch_size=None):
  """TensorSpecs of the two inputs; None sizes serve any size."""
  return {
      LINEART_KEY: tf.TensorSpec([batch_size, height, width, 1], tf.uint8,
                                 name=LINEART_KEY),
      HINTS_KEY: tf.TensorSpec([batch_size, height, width, 4], tf.uint8,
                               name=HINTS_KEY),
  }


def _assert_rank_4(tensor, message):
  """Assert op on the rank of `tensor` as fed, whatever its traced spec says.

  The signature's TensorSpec says rank 4, so `tf.debugging.assert_rank` is
  decided (and dropped) when tracing, and graph optimisation folds `tf.rank`
  or `tf.size(tf.shape(x))` to 4; but TF Serving and `saved_model_cli` feed
  whatever arrives, and a rank-3 input then failed deep inside with "slice
  index 3 of dimension 0 out of bounds". Here the rank is read from the shape
  values (the index of a -1 appended to them), which nothing can fold.
  """
  if tensor.shape.rank is not None and tensor.shape.rank != 4:  # known when tracing
    raise ValueError(f"{message}, got shape {tensor.shape}")
  shape = tf.concat([tf.shape(tensor, out_type=tf.int64), [-1]], axis=0)
  rank = tf.argmin(shape, output_type=tf.int64)
  return tf.debugging.Assert(tf.equal(rank, 4), [message, "got shape", tf.shape(tensor)])


def check_inputs(lineart, hints):
  """Graph assertions on the two uint8 inputs; returns them (with the checks attached).

  Every check runs when the graph runs, whatever the traced specs say
  (`_assert_rank_4`): rank, channels, an empty batch, height or width,
  and the height/width/batch agreement that a spec cannot express.
  """
  checks = [
      _assert_rank_4(lineart, "input lineart must be [batch, height, width, 1]"),
      _assert_rank_4(hints, "input hints must be [batch, height, width, 4] (RGBA)"),
  ]
  with tf.control_dependencies(checks):
    lineart_shape, hints_shape = tf.shape(lineart), tf.shape(hints)
    checks += [
        tf.debugging.assert_equal(
            lineart_shape[3], 1,
            message="input lineart must have 1 channel (grayscale line art)"),
        tf.debugging.assert_equal(
            hints_shape[3], 4,
            message="input hints must have 4 channels (RGBA; alpha > 0 = hinted)"),
        tf.debugging.assert_equal(
            lineart_shape[:3], hints_shape[:3],
            message="inputs lineart and hints must have the same batch size, "
            "height and width"),
        tf.debugging.assert_positive(
            lineart_shape[0], message="input lineart has an empty batch (batch size 0)"),
        tf.debugging.assert_positive(
            lineart_shape[1:3], message="input lineart has an empty height or width"),
    ]
  with tf.control_dependencies(checks):
    return tf.identity(lineart), tf.identity(hints)


def lineart_to_model(lineart):
  """uint8 line art [..., 1] -> float32 in [-1, 1], white paper = +1."""
  return tf.cast(lineart, tf.float32) / 127.5 - 1.0


def hints_to_model(hints):
  """uint8 RGBA [..., 4] -> float32 hints: RGB in [-1, 1] where alpha > 0, else 0; mask."""
  mask = tf.cast(hints[..., 3:4] > 0, tf.float32)
  rgb = (tf.cast(hints[..., :3], tf.float32) / 127.5 - 1.0) * mask
  return tf.concat([rgb, mask], axis=-1)


def image_to_uint8(image):
  """float image in [-1, 1] -> uint8, rounded (as `tfcolor.visualize.to_uint8`)."""
  return tf.cast(tf.clip_by_value(tf.round((image + 1.0) * 127.5), 0.0, 255.0),
                 tf.uint8)


def pad_amounts(height, width, multiple=SIZE_MULTIPLE):
  """Bottom and right padding that make height and width multiples of `multiple`."""
  return (-height) % multiple, (-width) % multiple


def colorize_float(generator, lineart, hints):
  """uint8 inputs of any size -> float32 image [B, H, W, 3] in [-1, 1]."""
  lineart, hints = check_inputs(lineart, hints)
  height, width = tf.shape(lineart)[1], tf.shape(lineart)[2]
  pad_bottom, pad_right = pad_amounts(height, width)
  paddings = [[0, 0], [0, pad_bottom], [0, pad_right], [0, 0]]
  lineart = tf.pad(lineart, paddings, constant_values=_WHITE)
  hints = tf.pad(hints, paddings, constant_values=0)
  image = generator({LINEART_KEY: lineart_to_model(lineart),
                     HINTS_KEY: hints_to_model(hints)}, training=False)
  return tf.cast(image[:, :height, :width, :], tf.float32)


class ColorizationModule(tf.Module):
  """The generator and its two serving functions (exported by `export`)."""

  def __init__(self, generator, name="tfcolor_colorizer"):
    super().__init__(name=name)
    self.generator = generator

  def colorize_float(self, lineart, hints):
    return {IMAGE_KEY: colorize_float(self.generator, lineart, hints)}

  def colorize_uint8(self, lineart, hints):
    image = colorize_float(self.generator, lineart, hints)
    return {IMAGE_KEY: image_to_uint8(image)}
