"""Per-image work of the dataset builder: decode, orient, resize, filter, encode.

Runs inside the builder's worker processes, so it must not import TensorFlow.
Every reason to drop an image is a `SkipImage` with a message for report.json.
"""

import io
import warnings

import cv2
import numpy as np
from PIL import Image, ImageOps

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")
IMAGE_FORMATS = ("png", "jpeg")


class SkipImage(Exception):
  """This file does not become a record; the message says why."""


def is_url(path):
  """gs://, s3://, ...: read and written through Beam's file systems."""
  return "://" in path


def _open(path):
  if not is_url(path):
    return open(path, "rb")  # pylint: disable=consider-using-with
  from apache_beam.io.filesystems import FileSystems  # pylint: disable=import-outside-toplevel
  return FileSystems.open(path, compression_type="uncompressed")


def load_rgb(path):
  """Decodes a file (local or a Beam file system URL) to uint8 RGB (H, W, 3),
  upright, transparency on white.

  Raises SkipImage for anything PIL cannot fully decode (corrupt, truncated,
  not an image, decompression bomb).
  """
  try:
    with warnings.catch_warnings(), _open(path) as file:
      warnings.simplefilter("error", Image.DecompressionBombWarning)
      with Image.open(file) as image:
        image.load()  # Decodes everything: truncated files fail here.
        image = ImageOps.exif_transpose(image)
        return _to_rgb(image)
  except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
          Image.DecompressionBombWarning) as error:
    raise SkipImage(f"unreadable: {type(error).__name__}: {error}") from None


def _to_rgb(image):
  """Any PIL mode -> uint8 RGB array; alpha (also palette transparency) over white."""
  if image.mode in ("I;16", "I;16B", "I;16L", "I"):
    # 16/32-bit greyscale: scale to 8 bits instead of PIL's clipping convert.
    values = np.asarray(image, dtype=np.float64)
    peak = 65535.0 if values.max() > 255 else 255.0
    gray = np.clip(values / peak * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=-1)
  has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
      image.mode == "P" and "transparency" in image.info)
  if has_alpha:
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    image = Image.alpha_composite(white, rgba)
  return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def resize_shorter_side(image, min_side=0, max_side=0):
  """Scales so the shorter side is >= min_side and <= max_side (0 = no bound)."""
  height, width = image.shape[:2]
  shorter = min(height, width)
  target = shorter
  if max_side and shorter > max_side:
    target = max_side
  if min_side and shorter < min_side:
    target = min_side
  if target == shorter:
    return image
  scale = target / shorter
  # The shorter side lands exactly on `target`; the other keeps the aspect.
  if height <= width:
    size = (max(1, int(round(width * scale))), target)
  else:
    size = (target, max(1, int(round(height * scale))))
  interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
  return cv2.resize(image, size, interpolation=interpolation)


def colorfulness(image):
  """Hasler & Süsstrunk (2003) colourfulness M of uint8 RGB; 0 for pure grey.

  M = sqrt(std(rg)^2 + std(yb)^2) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2),
  rg = R - G, yb = (R + G) / 2 - B. On their scale 15 reads as "slightly
  colourful", 33 "moderately"; why the builder's threshold is 10: docs/data.md.
  """
  rgb = np.asarray(image, dtype=np.float32)
  red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
  rg = red - green
  yb = 0.5 * (red + green) - blue
  spread = np.sqrt(rg.var() + yb.var())
  offset = np.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
  return float(spread + 0.3 * offset)


# zlib's default strategy at level 3: TensorFlow decodes these about twice as
# fast as OpenCV's default (RLE, level 1) PNGs, and they are smaller
# (docs/input_pipeline.md); decoding is the training pipeline's main cost.
_PNG_PARAMS = [cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_DEFAULT,
               cv2.IMWRITE_PNG_COMPRESSION, 3]


def encode_png(image):
  """uint8 RGB (H, W, 3) or gray (H, W) -> PNG bytes."""
  if image.ndim == 3:
    image = image[..., ::-1]  # OpenCV writes BGR.
  ok, encoded = cv2.imencode(".png", np.ascontiguousarray(image), _PNG_PARAMS)
  if not ok:
    raise RuntimeError(f"OpenCV could not encode a {image.shape} image as PNG")
  return encoded.tobytes()


def encode_jpeg(image, quality):
  """uint8 RGB (H, W, 3) -> JPEG bytes (4:2:0 chroma, as most decoders expect)."""
  buffer = io.BytesIO()
  Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
  return buffer.getvalue()


def encode_image(image, image_format, jpeg_quality=95):
  if image_format == "png":
    return encode_png(image)
  if image_format == "jpeg":
    return encode_jpeg(image, jpeg_quality)
  raise ValueError(f"image format must be one of {IMAGE_FORMATS}, got {image_format!r}")
