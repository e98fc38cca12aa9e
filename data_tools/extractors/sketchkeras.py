"""sketchKeras (lllyasviel, 2017, Apache-2.0) rebuilt in Keras 3, with a loader of its mod.h5.

The public `mod.h5` is a whole Keras 2 model that Keras 3 cannot deserialise,
so the architecture is rebuilt here with the same layer names (Keras 2's
automatic ones: conv2d_1..18, batch_normalization_1..17) and shapes, and only
the weights are read from the file (`keras2_h5`).

The net is a U-Net on one channel: each colour channel of the illustration,
high-passed (minus a Gaussian blur of sigma 3) and divided by the image's
largest response, is a separate sample; the three outputs are combined by max.
Convs pad "same" with zeros as Keras 2 did (PyTorch ports reflect-pad instead,
which differs at the borders). Four stride-2 convs: sizes must be multiples of 16.
"""

import os

import cv2
import keras
import numpy as np

from data_tools.extractors import inference
from data_tools.extractors import keras2_h5
from data_tools.extractors.base import ExtractorUnavailableError, LineArtExtractor
from data_tools.extractors.configs import SketchKerasConfig

STRIDE = 16  # Four stride-2 convs.
BLUR_SIGMA = 3.0  # Gaussian of the high-pass, as in the public helper.py.
BATCH_NORM_EPSILON = 1e-3  # Keras 2's default, which mod.h5 was trained with.

# Widths of the encoder: (4x4 stride-2 conv, 3x3 conv) per level; level 0 has
# only the 3x3 conv and the bottom level (512) its own block (see the builder).
_ENCODER = ((None, 32), (64, 64), (128, 128), (256, 256))
# Decoder: (4x4 conv after 2x upsampling, 3x3 conv) per level, bottom up.
_DECODER = ((512, 256), (256, 128), (128, 64), (64, 32))


class _Namer:
  """Keras 2's automatic layer names (conv2d_1, conv2d_2, ...) in build order."""

  def __init__(self):
    self._counts = {}

  def __call__(self, prefix):
    self._counts[prefix] = self._counts.get(prefix, 0) + 1
    return f"{prefix}_{self._counts[prefix]}"


def _conv_bn_relu(x, filters, kernel_size, strides, name):
  x = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding="same",
                          name=name("conv2d"))(x)
  x = keras.layers.BatchNormalization(epsilon=BATCH_NORM_EPSILON,
                                      name=name("batch_normalization"))(x)
  return keras.layers.Activation("relu", name=name("activation"))(x)


def build_sketchkeras_model():
  """The sketchKeras U-Net: (B, H, W, 1) high-pass -> (B, H, W, 1) line response.

  H and W must be multiples of 16. Layer names and weight shapes match mod.h5.
  """
  name = _Namer()
  inputs = keras.Input((None, None, 1), name="input_1")
  skips = []
  x = inputs
  for down_filters, filters in _ENCODER:
    if down_filters is not None:
      x = _conv_bn_relu(x, down_filters, 4, 2, name)
    x = _conv_bn_relu(x, filters, 3, 1, name)
    skips.append(x)
  bottom = _conv_bn_relu(x, 512, 4, 2, name)  # 1/16.
  x = _conv_bn_relu(bottom, 512, 3, 1, name)
  x = keras.layers.Concatenate(name=name("concatenate"))([bottom, x])
  for (up_filters, filters), skip in zip(_DECODER, reversed(skips)):
    x = keras.layers.UpSampling2D(2, name=name("up_sampling2d"))(x)
    x = _conv_bn_relu(x, up_filters, 4, 1, name)
    x = _conv_bn_relu(x, filters, 3, 1, name)
    x = keras.layers.Concatenate(name=name("concatenate"))([skip, x])
  outputs = keras.layers.Conv2D(1, 3, padding="same", name=name("conv2d"))(x)
  return keras.Model(inputs, outputs, name="sketchkeras")


def load_sketchkeras_weights(model, path):
  """Loads lllyasviel's public mod.h5 (Keras 2 HDF5) into `model`, by layer name.

  Raises keras2_h5.WeightsFileError naming the layer on a missing layer or a
  shape that differs.
  """
  keras2_h5.load_weights(model, path)


def high_pass(image):
  """uint8 RGB (h, w, 3) -> float32 per-channel detail, largest response 1.

  As the public helper.py: channel minus its Gaussian blur (both uint8, as
  OpenCV blurs them), divided by the image's largest value. A flat image has
  no detail and stays all zeros.
  """
  blurred = cv2.GaussianBlur(image, (0, 0), BLUR_SIGMA)
  detail = image.astype(np.float32) - blurred.astype(np.float32)
  peak = float(detail.max())
  return detail / peak if peak > 0 else np.zeros_like(detail)


def _working_size(height, width, long_side):
  """(h, w) the net sees the image at, and the (H, W) canvas it is padded to."""
  if long_side == 0:
    return (height, width), (-(-height // STRIDE) * STRIDE,
                             -(-width // STRIDE) * STRIDE)
  scale = long_side / max(height, width)
  size = (max(1, round(height * scale)), max(1, round(width * scale)))
  return size, (long_side, long_side)


class SketchKerasExtractor(LineArtExtractor):
  """Line art from lllyasviel's sketchKeras (the paper's p=0.5 kind).

  Pipeline, as the public main.py: resize the long side to
  `sketchkeras_long_side` (INTER_AREA), high-pass each channel, pad with zeros
  (no detail) to the canvas, run the three channels as a batch, crop, take the
  max over channels, resize back to the input size, drop responses below
  `sketchkeras_threshold`, and invert to white paper.
  """

  name = "sketchkeras"

  def __init__(self, config=None, model=None):
    """`model`: a built sketchKeras model to use instead of loading the weights file."""
    config = config or SketchKerasConfig()
    if config.sketchkeras_batch_size < 1:
      raise ValueError("--sketchkeras_batch_size must be >= 1, got "
                       f"{config.sketchkeras_batch_size}")
    if config.sketchkeras_long_side < 0 or config.sketchkeras_long_side % STRIDE:
      raise ValueError("--sketchkeras_long_side must be 0 or a positive multiple of "
                       f"{STRIDE}, got {config.sketchkeras_long_side}")
    if not 0.0 <= config.sketchkeras_threshold <= 1.0:
      raise ValueError("--sketchkeras_threshold must be in [0, 1], got "
                       f"{config.sketchkeras_threshold}")
    self._config = config
    if model is None:
      path = config.sketchkeras_weights
      if not path:
        raise ExtractorUnavailableError(
            "sketchkeras needs the public weights: set --sketchkeras_weights=PATH to "
            "mod.h5 from the releases of lllyasviel/sketchKeras on GitHub (Apache-2.0; "
            "see docs/extractors.md)")
      if not os.path.isfile(path):
        raise FileNotFoundError(f"--sketchkeras_weights={path}: no such file")
      model = build_sketchkeras_model()
      load_sketchkeras_weights(model, path)
    self._model = model
    self._forward = inference.compile_forward(model)

  def extract(self, image):
    return self.extract_batch([image])[0]

  def extract_batch(self, images):
    long_side = self._config.sketchkeras_long_side
    canvases, crops = [], []
    for index, image in enumerate(images):
      inference.check_rgb_image(image, index)
      height, width = image.shape[:2]
      (h, w), (canvas_h, canvas_w) = _working_size(height, width, long_side)
      if (h, w) != (height, width):
        image = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
      canvas = np.zeros((canvas_h, canvas_w, 3), np.float32)
      canvas[:h, :w] = high_pass(image)
      canvases.append(canvas)
      crops.append((h, w))
    responses = inference.run_grouped(
        canvases, self._config.sketchkeras_batch_size, self._run_batch)
    return [self._to_lineart(response[:h, :w], image.shape[:2])
            for response, (h, w), image in zip(responses, crops, images)]

  def _run_batch(self, canvases):
    """(N, H, W, 3) high-pass -> (N, H, W) line response, max over channels."""
    n, height, width, _ = canvases.shape
    channels_as_batch = canvases.transpose(0, 3, 1, 2).reshape(n * 3, height, width, 1)
    response = np.asarray(self._forward(channels_as_batch))
    return response.reshape(n, 3, height, width).max(axis=1)

  def _to_lineart(self, response, size):
    response = inference.resize_map(np.ascontiguousarray(response), *size,
                                     interpolation_up=cv2.INTER_CUBIC,
                                     interpolation_down=cv2.INTER_AREA)
    response = np.where(response < self._config.sketchkeras_threshold, 0.0, response)
    return inference.to_uint8((1.0 - response) * 255.0)

  def settings(self):
    path = self._config.sketchkeras_weights
    return {
        "weights": path,
        "weights_sha256": inference.file_sha256(path) if path else None,
        "long_side": self._config.sketchkeras_long_side,
        "threshold": self._config.sketchkeras_threshold,
    }
