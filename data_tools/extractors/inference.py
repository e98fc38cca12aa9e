"""Batched, deterministic inference shared by the neural line art extractors.

Images of one shape run together in batches through a `tf.function` that is
traced once for any size (TensorFlow places it on the GPU when there is one).
Grouping by shape, instead of padding a batch to its largest image, keeps an
image's line art independent of which other images share its batch.
"""

import hashlib

import cv2
import numpy as np
import tensorflow as tf


def check_rgb_image(image, index=None):
  """Raises ValueError unless `image` is a uint8 (H, W, 3) array."""
  where = "" if index is None else f" (image {index} of the batch)"
  if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
    raise ValueError(f"expected a uint8 numpy RGB image{where}, got "
                     f"{type(image).__name__} {getattr(image, 'dtype', '')}")
  if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 1:
    raise ValueError(f"expected an RGB image of shape (H, W, 3){where}, "
                     f"got shape {image.shape}")


def compile_forward(model):
  """`model` in inference mode as a tf.function over (B, H, W, C) float32 batches."""
  channels = model.input_shape[-1]

  @tf.function(input_signature=[
      tf.TensorSpec([None, None, None, channels], tf.float32)])
  def forward(batch):
    return model(batch, training=False)

  return forward


def run_grouped(inputs, batch_size, run_batch):
  """Runs `run_batch` on stacks of same-shape inputs; returns outputs in input order.

  inputs: list of arrays. run_batch: (N, ...) array -> sequence of N outputs.
  """
  if batch_size < 1:
    raise ValueError(f"batch size must be >= 1, got {batch_size}")
  groups = {}
  for index, array in enumerate(inputs):
    groups.setdefault(array.shape, []).append(index)
  outputs = [None] * len(inputs)
  for indices in groups.values():
    for start in range(0, len(indices), batch_size):
      chunk = indices[start:start + batch_size]
      results = run_batch(np.stack([inputs[i] for i in chunk]))
      for index, result in zip(chunk, results):
        outputs[index] = result
  return outputs


def resize_map(values, height, width, interpolation_up, interpolation_down):
  """Resizes a float (h, w) map to (height, width); no-op when the size matches."""
  if values.shape == (height, width):
    return values
  shrinking = values.shape[0] >= height and values.shape[1] >= width
  return cv2.resize(values, (width, height),
                    interpolation=interpolation_down if shrinking else interpolation_up)


def to_uint8(values):
  """Floats on [0, 255] -> uint8, rounded and clipped."""
  return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def file_sha256(path):
  """Hex SHA-256 of a file, so a dataset report records which weights made it."""
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()
