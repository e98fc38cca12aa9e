"""One example from a parsed record, in graph: line art kind, decode, crop, flip, hints.

Training examples (`train_example`) take a random crop, flip and kind from a
per-example stateless seed; evaluation examples (`eval_example`) a centre
crop (or the whole image, cut to a multiple of 16) with kind and hints seeded
from a hash of the key. JPEG images are decoded straight into the crop window
(`tf.io.decode_and_crop_jpeg`); PNG images whole. Line art is decoded once
(the chosen kind only) and its size checked against the image's.
"""

import tensorflow as tf

from tfcolor.config import SIZE_MULTIPLE
from tfcolor.data import hints as hints_lib

EVAL_SEED_SALT = 0x5EED  # Second word of the stateless seed of eval examples.


def choose_kind(present, probs, seed):
  """Index of one present kind, drawn with `probs` renormalised over them."""
  weights = tf.where(present, tf.constant(probs, tf.float32), 0.0)
  cumulative = tf.cumsum(weights)
  target = tf.random.stateless_uniform([], seed) * cumulative[-1]
  # First index whose cumulative weight exceeds the target; absent kinds add
  # nothing, so they can never be that index. The minimum guards against
  # target rounding up to the total (then no index would exceed it).
  last_present = tf.shape(present)[0] - 1 - tf.argmax(
      tf.reverse(tf.cast(present, tf.int32), [0]), output_type=tf.int32)
  return tf.minimum(tf.reduce_sum(tf.cast(cumulative <= target, tf.int32)),
                    last_present)


def decode_lineart(encoded):
  return tf.io.decode_image(encoded, channels=1, expand_animations=False)


def assert_same_size(image_size, lineart_size, key):
  """Assert op: a record's image and line art must have the same size."""
  return tf.debugging.Assert(
      tf.reduce_all(tf.equal(image_size, lineart_size)),
      ["image and line art sizes (height, width) differ in the record with key",
       key, image_size, lineart_size])


def decode_window(image_bytes, lineart, key, top, left, height, width):
  """Image and line art cut to the same window; line art is already decoded."""
  lineart_size = tf.shape(lineart)[:2]

  def jpeg():
    image_size = tf.io.extract_jpeg_shape(image_bytes)[:2]
    check = assert_same_size(image_size, lineart_size, key)
    with tf.control_dependencies([check]):
      window = tf.stack([top, left, height, width])
    return tf.io.decode_and_crop_jpeg(image_bytes, window, channels=3)

  def other():
    image = tf.io.decode_image(image_bytes, channels=3, expand_animations=False)
    with tf.control_dependencies(
        [assert_same_size(tf.shape(image)[:2], lineart_size, key)]):
      return image[top:top + height, left:left + width]

  image = tf.cond(tf.io.is_jpeg(image_bytes), jpeg, other)
  return image, lineart[top:top + height, left:left + width]


def resize_up(image_bytes, lineart, key, min_side):
  """Decodes and resizes image and line art so the shorter side is min_side."""
  image = tf.io.decode_image(image_bytes, channels=3, expand_animations=False)
  with tf.control_dependencies(
      [assert_same_size(tf.shape(image)[:2], tf.shape(lineart)[:2], key)]):
    stacked = tf.concat([image, lineart], axis=-1)
  size = tf.cast(tf.shape(stacked)[:2], tf.float32)
  scale = tf.cast(min_side, tf.float32) / tf.reduce_min(size)
  new_size = tf.maximum(tf.cast(tf.math.ceil(size * scale), tf.int32), min_side)
  resized = tf.image.resize(stacked, new_size, method="bilinear")
  resized = tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)
  return resized[..., :3], resized[..., 3:]


def crop(image_bytes, lineart, key, crop_size, window_offsets):
  """Square crop_size crop of image and line art at `window_offsets(h, w)`.

  Records smaller than the crop are resized up first (shorter side = crop).
  """
  size = tf.shape(lineart)[:2]

  def direct():
    top, left = window_offsets(size[0], size[1])
    return decode_window(image_bytes, lineart, key, top, left, crop_size, crop_size)

  def resized():
    image, resized_lineart = resize_up(image_bytes, lineart, key, crop_size)
    new_size = tf.shape(image)[:2]
    top, left = window_offsets(new_size[0], new_size[1])
    return (image[top:top + crop_size, left:left + crop_size],
            resized_lineart[top:top + crop_size, left:left + crop_size])

  image, lineart = tf.cond(tf.reduce_min(size) >= crop_size, direct, resized)
  channels = lineart.shape[-1]
  return (tf.ensure_shape(image, [crop_size, crop_size, 3]),
          tf.ensure_shape(lineart, [crop_size, crop_size, channels]))


def to_model_range(pixels):
  return tf.cast(pixels, tf.float32) * (1.0 / 127.5) - 1.0


def decode_lineart_kinds(parsed, kind_index, all_kinds):
  """(H, W, 1) line art of the chosen kind, or (H, W, K) of every kind.

  With all_kinds, absent kinds repeat the chosen one (their flag in
  parsed["present"] says so); used by the preview.
  """
  chosen = parsed["lineart"][kind_index]
  if not all_kinds:
    return decode_lineart(chosen)
  encoded = tf.where(parsed["present"], parsed["lineart"], chosen)
  return tf.concat([decode_lineart(encoded[i]) for i in range(encoded.shape[0])], -1)


def example(parsed, image, lineart, kind_index, hint_seed, data_config, all_kinds):
  """One example before batching: uint8 pixels and the raw hint draws.

  Pixels stay uint8 and hints stay a few numbers until after batching;
  `finalize_batch` then makes the floats and paints the hints of the whole
  batch at once.
  """
  size = tf.shape(image)
  patches = hints_lib.sample_hint_patches(
      size[0], size[1], hint_seed, hints_lib.HintSampling.from_config(data_config))
  example = {"key": parsed["key"], "image": image, "lineart": lineart,
             "hint_patches": patches._asdict()}
  if all_kinds:
    example.update(lineart_present=parsed["present"], lineart_kind=kind_index)
  return example


def finalize_batch(batch):
  """uint8 pixels and hint draws -> the model's float32 inputs (DESIGN.md ranges)."""
  batch = dict(batch)
  image = to_model_range(batch.pop("image"))
  lineart = to_model_range(batch.pop("lineart"))
  patches = hints_lib.HintPatches(**batch.pop("hint_patches"))
  outputs = {"key": batch.pop("key"), "image": image,
             "hints": hints_lib.hints_from_patches(image, patches)}
  if "lineart_kind" in batch:  # preview: every kind, and the one fed as "lineart"
    outputs["lineart_kinds"] = lineart
    outputs["lineart"] = tf.gather(lineart, batch["lineart_kind"], axis=-1,
                                   batch_dims=1)[..., None]
    outputs.update(batch)
  else:
    outputs["lineart"] = lineart
  return outputs


def train_example(parsed, seed, data_config, probs, all_kinds=False):
  kind_seed, crop_seed, flip_seed, hint_seed = tf.unstack(
      tf.random.experimental.stateless_split(seed, num=4))
  kind_index = choose_kind(parsed["present"], probs, kind_seed)
  lineart = decode_lineart_kinds(parsed, kind_index, all_kinds)
  crop_size = data_config.crop_size

  def random_offsets(height, width):
    top_seed, left_seed = tf.unstack(
        tf.random.experimental.stateless_split(crop_seed, num=2))
    top = tf.random.stateless_uniform([], top_seed, 0, height - crop_size + 1, tf.int32)
    left = tf.random.stateless_uniform([], left_seed, 0, width - crop_size + 1,
                                       tf.int32)
    return top, left

  image, lineart = crop(parsed["image"], lineart, parsed["key"], crop_size,
                         random_offsets)
  flip = tf.random.stateless_uniform([], flip_seed) < 0.5
  image, lineart = tf.cond(
      flip, lambda: (tf.reverse(image, [1]), tf.reverse(lineart, [1])),
      lambda: (image, lineart))
  return example(parsed, image, lineart, kind_index, hint_seed, data_config,
                  all_kinds)


def eval_seed(key):
  """Stateless seed from the example key: identical on every run and machine."""
  key_hash = tf.strings.to_hash_bucket_fast(key, 2**31 - 1)
  return tf.stack([key_hash, tf.constant(EVAL_SEED_SALT, tf.int64)])


def eval_example(parsed, data_config, probs):
  kind_seed, hint_seed = tf.unstack(
      tf.random.experimental.stateless_split(eval_seed(parsed["key"]), num=2))
  kind_index = choose_kind(parsed["present"], probs, kind_seed)
  lineart = decode_lineart_kinds(parsed, kind_index, all_kinds=False)

  if data_config.eval_mode == "full":
    size = tf.shape(lineart)[:2]
    big_enough = tf.debugging.Assert(
        tf.reduce_min(size) >= SIZE_MULTIPLE,
        ["--eval_mode=full needs images of at least 16 x 16; record key",
         parsed["key"], size])
    with tf.control_dependencies([big_enough]):
      cropped = size // SIZE_MULTIPLE * SIZE_MULTIPLE
    top, left = tf.unstack((size - cropped) // 2)
    image, lineart = decode_window(parsed["image"], lineart, parsed["key"], top,
                                    left, cropped[0], cropped[1])
    image = tf.ensure_shape(image, [None, None, 3])
    lineart = tf.ensure_shape(lineart, [None, None, 1])
  else:
    crop_size = data_config.crop_size

    def centre_offsets(height, width):
      return (height - crop_size) // 2, (width - crop_size) // 2

    image, lineart = crop(parsed["image"], lineart, parsed["key"], crop_size,
                           centre_offsets)
  return example(parsed, image, lineart, kind_index, hint_seed, data_config,
                  all_kinds=False)
