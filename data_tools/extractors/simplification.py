"""Sketch Simplification (Simo-Serra, Iizuka & Ishikawa, TOG 2018) ported to Keras 3.

The authors publish the net (bobbens/sketch_simplification, `model_gan.py`) as
a plain sequence of 23 convs: a 5x5 and two 3x3 stride-2 downs to 1/8 size,
flat 3x3 convs up to 1024 channels, three 4x4 stride-2 transposed convs back,
ReLU after each, sigmoid at the end. Its weights are Torch7/PyTorch files under
a non-commercial licence; `data_tools.convert_simplification_weights` turns
the PyTorch state dict into the Keras 2 HDF5 layout (`keras2_h5`) loaded here.

The input is grayscale on [0, 1], normalised with the mean and std published
with the weights, padded (replicating the border) to a multiple of 8. The
paper's colorization data enlarge the illustration 3x first (waifu2x there,
bicubic here by default, any `upscaler` callable pluggable), since the line
thickness depends on the input resolution, and resize the result back.
"""

import os

import cv2
import keras
import numpy as np

from data_tools.extractors import inference
from data_tools.extractors import keras2_h5
from data_tools.extractors.base import ExtractorUnavailableError, LineArtExtractor
from data_tools.extractors.configs import SimplificationConfig

STRIDE = 8  # Three stride-2 downs.

# The layers of model_gan.py / model_mse.py in order: (name, kind, filters,
# kernel, stride). "conv" pads k // 2 on every side like the PyTorch convs,
# "upconv" is ConvTranspose2d(k=4, s=2, p=1), which doubles the size.
LAYERS = (
    ("conv01", "conv", 48, 5, 2),
    ("conv02", "conv", 128, 3, 1),
    ("conv03", "conv", 128, 3, 1),
    ("conv04", "conv", 128, 3, 2),
    ("conv05", "conv", 256, 3, 1),
    ("conv06", "conv", 256, 3, 1),
    ("conv07", "conv", 256, 3, 2),
    ("conv08", "conv", 512, 3, 1),
    ("conv09", "conv", 1024, 3, 1),
    ("conv10", "conv", 1024, 3, 1),
    ("conv11", "conv", 1024, 3, 1),
    ("conv12", "conv", 1024, 3, 1),
    ("conv13", "conv", 512, 3, 1),
    ("conv14", "conv", 256, 3, 1),
    ("upconv15", "upconv", 256, 4, 2),
    ("conv16", "conv", 256, 3, 1),
    ("conv17", "conv", 128, 3, 1),
    ("upconv18", "upconv", 128, 4, 2),
    ("conv19", "conv", 128, 3, 1),
    ("conv20", "conv", 48, 3, 1),
    ("upconv21", "upconv", 48, 4, 2),
    ("conv22", "conv", 24, 3, 1),
    ("conv23", "conv", 1, 3, 1),
)

# Grayscale mean and std the published models were trained with (their repo's
# model_gan.py and model_mse.py); the converter records one pair in the file.
NORMALIZATION = {
    "gan": (0.9664114577640158, 0.0858381272736797),
    "mse": (0.9664423107454593, 0.08583666033640507),
}
DEFAULT_VARIANT = "gan"


def layer_shapes():
  """[(name, kind, kernel shape in Keras layout, bias shape)] of every layer."""
  shapes, channels = [], 1
  for name, kind, filters, kernel, _ in LAYERS:
    if kind == "conv":
      kernel_shape = (kernel, kernel, channels, filters)
    else:  # Conv2DTranspose: (kh, kw, out, in).
      kernel_shape = (kernel, kernel, filters, channels)
    shapes.append((name, kind, kernel_shape, (filters,)))
    channels = filters
  return shapes


def build_simplification_model():
  """The simplification net: normalised gray (B, H, W, 1) -> [0, 1] (B, H, W, 1).

  H and W must be multiples of 8. Layer names are those of `LAYERS`.
  """
  inputs = keras.Input((None, None, 1), name="gray")
  x = inputs
  for index, (name, kind, filters, kernel, stride) in enumerate(LAYERS):
    activation = "sigmoid" if index == len(LAYERS) - 1 else "relu"
    if kind == "upconv":
      x = keras.layers.Conv2DTranspose(filters, kernel, strides=stride,
                                       padding="same", activation=activation,
                                       name=name)(x)
    elif stride == 1:
      x = keras.layers.Conv2D(filters, kernel, padding="same",
                              activation=activation, name=name)(x)
    else:
      # PyTorch pads k // 2 on both sides; Keras "same" with stride 2 would pad
      # less before than after, shifting the image.
      x = keras.layers.ZeroPadding2D(kernel // 2, name=f"{name}_pad")(x)
      x = keras.layers.Conv2D(filters, kernel, strides=stride, padding="valid",
                              activation=activation, name=name)(x)
  return keras.Model(inputs, x, name="sketch_simplification")


def load_simplification_weights(model, path):
  """Loads weights written by the converter; returns the (mean, std) they need."""
  attrs = keras2_h5.load_weights(model, path)
  default_mean, default_std = NORMALIZATION[DEFAULT_VARIANT]
  return float(attrs.get("immean", default_mean)), float(attrs.get("imstd", default_std))


def bicubic_upscaler(image, scale):
  """The default upscaler: OpenCV bicubic, uint8 RGB in and out."""
  height, width = image.shape[:2]
  size = (max(1, round(width * scale)), max(1, round(height * scale)))
  return cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)


class SimplificationExtractor(LineArtExtractor):
  """Line art from Sketch Simplification (the paper's p=0.4 kind).

  Pipeline: upscale the colour image by `simplification_upscale` with
  `upscaler` (bicubic by default; the paper used waifu2x), grayscale, pad to a
  multiple of 8 replicating the border (as the authors' simplify.py), run the
  net, crop, resize back to the input size (INTER_AREA), uint8.

  The upscaler gets the colour image, as waifu2x would: `upscaler(rgb_uint8,
  scale) -> rgb_uint8` of about scale times the size.
  """

  name = "simplification"

  def __init__(self, config=None, upscaler=None, model=None, normalization=None):
    """`model` and `normalization` (mean, std): use these instead of the weights file."""
    config = config or SimplificationConfig()
    if config.simplification_batch_size < 1:
      raise ValueError("--simplification_batch_size must be >= 1, got "
                       f"{config.simplification_batch_size}")
    if not config.simplification_upscale > 0:
      raise ValueError("--simplification_upscale must be > 0, got "
                       f"{config.simplification_upscale}")
    self._config = config
    self._upscaler = upscaler or bicubic_upscaler
    if model is None:
      path = config.simplification_weights
      if not path:
        raise ExtractorUnavailableError(
            "simplification needs converted weights: set --simplification_weights=PATH "
            "to the output of `python -m data_tools.convert_simplification_weights "
            "--input=model_gan.pth --output=PATH` (the weights come from "
            "bobbens/sketch_simplification, non-commercial research use only; see "
            "docs/extractors.md)")
      if not os.path.isfile(path):
        raise FileNotFoundError(f"--simplification_weights={path}: no such file")
      model = build_simplification_model()
      normalization = load_simplification_weights(model, path)
    self._mean, self._std = normalization or NORMALIZATION[DEFAULT_VARIANT]
    self._model = model
    self._forward = inference.compile_forward(model)

  def extract(self, image):
    return self.extract_batch([image])[0]

  def extract_batch(self, images):
    scale = self._config.simplification_upscale
    inputs, crops = [], []
    for index, image in enumerate(images):
      inference.check_rgb_image(image, index)
      enlarged = image if scale == 1 else self._upscaler(image, scale)
      if (not isinstance(enlarged, np.ndarray) or enlarged.dtype != np.uint8
          or enlarged.ndim != 3 or enlarged.shape[2] != 3):
        raise ValueError(
            f"the upscaler must return a uint8 RGB (H, W, 3) array, got "
            f"{getattr(enlarged, 'dtype', type(enlarged))} {getattr(enlarged, 'shape', '')}")
      gray = cv2.cvtColor(enlarged, cv2.COLOR_RGB2GRAY)
      h, w = gray.shape
      gray = cv2.copyMakeBorder(gray, 0, -h % STRIDE, 0, -w % STRIDE,
                                cv2.BORDER_REPLICATE)
      normalised = (gray.astype(np.float32) / 255.0 - self._mean) / self._std
      inputs.append(normalised[..., None])
      crops.append((h, w))
    outputs = inference.run_grouped(
        inputs, self._config.simplification_batch_size, self._run_batch)
    return [self._to_lineart(output[:h, :w], image.shape[:2])
            for output, (h, w), image in zip(outputs, crops, images)]

  def _run_batch(self, batch):
    return np.asarray(self._forward(batch))[..., 0]

  def _to_lineart(self, output, size):
    output = inference.resize_map(np.ascontiguousarray(output), *size,
                                  interpolation_up=cv2.INTER_CUBIC,
                                  interpolation_down=cv2.INTER_AREA)
    return inference.to_uint8(output * 255.0)

  def settings(self):
    path = self._config.simplification_weights
    return {
        "weights": path,
        "weights_sha256": inference.file_sha256(path) if path else None,
        "upscale": self._config.simplification_upscale,
        "upscaler": getattr(self._upscaler, "__name__", type(self._upscaler).__name__),
        "mean": self._mean,
        "std": self._std,
    }
