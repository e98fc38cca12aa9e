"""Uploaded bytes -> the arrays the model takes, and arrays -> PNG answers, in memory only.

Line art goes through `hint_files.lineart_from_image`, the conversion
`tfcolor.colorize` applies to files, so a page coloured in the studio and the
same files coloured by the CLI give the model the same pixels. Every problem
raises `BadUpload` with one line naming the upload.
"""

import io
import warnings

import numpy as np
from PIL import Image

from tfcolor.serving import hint_files


class BadUpload(ValueError):
  """An upload that is not what the endpoint needs (HTTP 4xx); `status` says which."""

  def __init__(self, message, status=400):
    super().__init__(message)
    self.status = status


def open_image(data, name, max_pixels):
  """Fully decoded PIL image of uploaded bytes; BadUpload if it is not a whole image."""
  if not data:
    raise BadUpload(f"{name}: the upload is empty")
  try:
    with warnings.catch_warnings():
      warnings.simplefilter("error", Image.DecompressionBombWarning)
      image = Image.open(io.BytesIO(data))
      width, height = image.size
      if width * height > max_pixels:
        raise BadUpload(f"{name}: {width}x{height} is larger than the studio takes "
                        f"({max_pixels} pixels)", status=413)
      image.load()  # Decodes now: a truncated file fails here, not later.
  except BadUpload:
    raise
  except Image.UnidentifiedImageError:
    raise BadUpload(f"{name}: not a readable image (not a format PIL knows)") from None
  except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
          Image.DecompressionBombError) as error:
    raise BadUpload(f"{name}: not a readable image ({error})") from None
  return image


def read_lineart(data, max_pixels, name="line art"):
  """Uploaded line art -> uint8 (H, W)."""
  return hint_files.lineart_from_image(open_image(data, name, max_pixels))


def read_rgb(data, max_pixels, name="picture"):
  """An uploaded colour picture -> uint8 RGB (H, W, 3)."""
  return np.asarray(open_image(data, name, max_pixels).convert("RGB"), np.uint8)


def read_hints(data, height, width, max_pixels, name="hint layer"):
  """An uploaded RGBA hint layer of the line art's size -> uint8 (H, W, 4); none = no hints."""
  if data is None:
    return np.zeros((height, width, 4), np.uint8)
  layer = open_image(data, name, max_pixels)
  if layer.size != (width, height):
    raise BadUpload(f"{name}: {layer.size[0]}x{layer.size[1]} but the line art is "
                    f"{width}x{height}; a hint layer must have the line art's size",
                    status=422)
  return np.asarray(layer.convert("RGBA"), np.uint8)


def png_bytes(array):
  """uint8 (H, W), (H, W, 3) or (H, W, 4) -> PNG bytes."""
  buffer = io.BytesIO()
  # Level 1: a fast answer matters more than a few kB on loopback.
  Image.fromarray(np.asarray(array, np.uint8)).save(buffer, format="PNG", compress_level=1)
  return buffer.getvalue()
