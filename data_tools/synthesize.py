r"""Synthesized cel-style illustrations: the embedded sample data.

No illustration dataset ships with the project (licences, size), so the demo and
the tests draw their own: a light background (flat or a gentle gradient), several
overlapping flat-coloured shapes (ellipses, polygons, blobs, striped shapes), dark
antialiased outlines of varying width, and cel shading (a darker tone of the
region's colour on one side) on some shapes. That is the structure a colorizer
learns from real anime illustrations: regions bounded by lines, one colour per
region, shading that follows the region.

Image `i` depends only on (seed, i), so a larger `--num_images` extends a smaller
set instead of reshuffling it.

  python -m data_tools.synthesize --output_dir=/tmp/sample/images \
      --num_images=200 --size=256 --seed=0
"""

import colorsys
import dataclasses
import os
import time

import cv2
import numpy as np
from absl import app, flags, logging

from tfcolor import cli
from tfcolor import flags as flags_lib
from tfcolor import io_utils
from tfcolor.config import field

_SUBPIXEL_BITS = 4  # OpenCV `shift`: coordinates carry 4 fractional bits.
_SUBPIXEL = 1 << _SUBPIXEL_BITS
_SHAPE_KINDS = ("ellipse", "polygon", "blob", "stripes")
_CURVE_ANGLES = np.linspace(0, 2 * np.pi, 72, endpoint=False)
_CURVE_UNIT = np.stack([np.cos(_CURVE_ANGLES), np.sin(_CURVE_ANGLES)], -1)


def _random_colour(rng, saturation=(0.45, 1.0), value=(0.55, 1.0)):
  """A saturated RGB colour in [0, 1] (so images pass the colourfulness filter)."""
  hue = rng.uniform()
  return np.array(colorsys.hsv_to_rgb(hue, rng.uniform(*saturation),
                                      rng.uniform(*value)), np.float32)


def _shade(colour, rng):
  """A darker, slightly cooler tone of `colour`, as cel shading uses."""
  hue, saturation, value = colorsys.rgb_to_hsv(*colour)
  hue = (hue + rng.uniform(0.0, 0.05)) % 1.0
  return np.array(colorsys.hsv_to_rgb(hue, min(1.0, saturation * 1.1),
                                      value * rng.uniform(0.55, 0.75)), np.float32)


def _background(rng, size):
  top = _random_colour(rng, saturation=(0.05, 0.4), value=(0.8, 1.0))
  if rng.uniform() < 0.4:
    canvas = np.empty((size, size, 3), np.uint8)
    canvas[...] = _to_u8(top)
    return canvas
  bottom = _random_colour(rng, saturation=(0.05, 0.5), value=(0.75, 1.0))
  angle = rng.uniform(0, 2 * np.pi)
  steps = np.linspace(-0.5, 0.5, size, dtype=np.float32)
  t = steps[None, :] * np.cos(angle) + steps[:, None] * np.sin(angle) + 0.5
  levels = np.clip(t * 255.0 + 0.5, 0, 255).astype(np.uint8)
  mix = np.linspace(0.0, 1.0, 256, dtype=np.float32)[:, None]
  palette = np.clip(((1 - mix) * top + mix * bottom) * 255.0 + 0.5, 0, 255)
  return cv2.LUT(cv2.merge([levels] * 3), palette.astype(np.uint8)[:, None, :])


def _outline_points(rng, kind, size):
  """Closed polygon (float (N, 2) x, y) of a random shape inside the canvas."""
  centre = rng.uniform(0.15, 0.85, size=2) * size
  radius = rng.uniform(0.1, 0.3) * size
  if kind == "ellipse":
    local = _CURVE_UNIT * (radius, radius * rng.uniform(0.4, 1.0))
  elif kind == "polygon":
    count = rng.integers(3, 8)
    angles = np.sort(rng.uniform(0, 2 * np.pi, count))
    local = np.stack([np.cos(angles), np.sin(angles)], -1) * (
        radius * rng.uniform(0.6, 1.0, count))[:, None]
  else:  # blob or stripes: a smooth wobbly closed curve.
    wobble = np.ones_like(_CURVE_ANGLES)
    for harmonic in range(2, 5):
      wobble += rng.uniform(0, 0.5 / harmonic) * np.sin(
          harmonic * _CURVE_ANGLES + rng.uniform(0, 2 * np.pi))
    local = _CURVE_UNIT * (radius * wobble)[:, None]
  rotation = rng.uniform(0, 2 * np.pi)
  cos, sin = np.cos(rotation), np.sin(rotation)
  return local @ np.array([[cos, sin], [-sin, cos]]) + centre


def _to_cv_points(points):
  return [(points * _SUBPIXEL + 0.5).astype(np.int32)]


def _bounding_box(points, size):
  """Integer (x0, y0, x1, y1) around `points`, padded for antialiasing, clipped."""
  (left, top), (right, bottom) = points.min(axis=0), points.max(axis=0)
  x0, y0 = max(int(left) - 2, 0), max(int(top) - 2, 0)
  x1, y1 = min(int(right) + 4, size), min(int(bottom) + 4, size)
  return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)


def _coverage(points, box):
  """Antialiased coverage in [0, 1] (float32) of a filled polygon inside `box`."""
  x0, y0, x1, y1 = box
  mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
  cv2.fillPoly(mask, _to_cv_points(points - (x0, y0)), 255, cv2.LINE_AA,
               _SUBPIXEL_BITS)
  return mask.astype(np.float32) * (1.0 / 255.0)


def _blend(canvas, box, coverage, colour_field):
  """canvas[box] <- mix of canvas and `colour_field` (uint8) by `coverage`."""
  x0, y0, x1, y1 = box
  roi = canvas[y0:y1, x0:x1]
  roi[...] = cv2.blendLinear(roi, colour_field, 1.0 - coverage, coverage)


def _to_u8(colour):
  return tuple(int(round(float(c) * 255)) for c in colour)


def _stripes(rng, box, colour):
  """uint8 colour field over `box`: parallel bands of `colour` and a second hue."""
  x0, y0, x1, y1 = box
  other = _random_colour(rng)
  angle = rng.uniform(0, np.pi)
  period = rng.uniform(4.0, 12.0) + 0.05 * max(x1 - x0, y1 - y0)
  xs = np.arange(x0, x1, dtype=np.float32)[None, :]
  ys = np.arange(y0, y1, dtype=np.float32)[:, None]
  phase = (xs * np.cos(angle) + ys * np.sin(angle)) / period
  # Antialiased square wave: ramps one pixel wide between the two bands.
  band = np.clip((np.abs((phase % 1.0) - 0.5) - 0.25) * period + 0.5, 0, 1)
  field = colour + band[..., None] * (other - colour)
  return np.clip(field * 255.0 + 0.5, 0, 255).astype(np.uint8)


def render_illustration(rng, size):
  """One synthesized illustration: uint8 RGB (size, size, 3)."""
  canvas = _background(rng, size)
  max_width = max(1, int(round(size / 64)))
  for _ in range(rng.integers(4, 9)):
    kind = _SHAPE_KINDS[rng.choice(len(_SHAPE_KINDS), p=(0.3, 0.3, 0.25, 0.15))]
    points = _outline_points(rng, kind, size)
    colour = _random_colour(rng)
    if kind == "stripes":
      box = _bounding_box(points, size)
      _blend(canvas, box, _coverage(points, box), _stripes(rng, box, colour))
    else:
      cv2.fillPoly(canvas, _to_cv_points(points), _to_u8(colour), cv2.LINE_AA,
                   _SUBPIXEL_BITS)
      if rng.uniform() < 0.6:
        # Cel shading: the part of the shape that its copy shifted towards the
        # light does not cover is in shadow.
        offset = rng.normal(size=2)
        offset *= rng.uniform(0.08, 0.25) * np.ptp(points, axis=0).mean() / (
            np.linalg.norm(offset) + 1e-6)
        box = _bounding_box(points, size)
        shadow = _coverage(points, box) * (1.0 - _coverage(points + offset, box))
        shade = np.empty(shadow.shape + (3,), np.uint8)
        shade[...] = _to_u8(_shade(colour, rng))
        _blend(canvas, box, shadow, shade)
    # Each shape's outline goes on before the next shape, so shapes in front
    # hide the lines behind them.
    line_colour = _random_colour(rng, saturation=(0.0, 0.6), value=(0.0, 0.25))
    cv2.polylines(canvas, _to_cv_points(points), True, _to_u8(line_colour),
                  int(rng.integers(1, max_width + 1)), cv2.LINE_AA, _SUBPIXEL_BITS)
  return canvas


def image_rng(seed, index):
  """The generator of image `index`: independent of how many images are made."""
  return np.random.default_rng(np.random.SeedSequence([seed, index]))


def synthesize_dataset(output_dir, num_images, size, seed):
  """Writes `num_images` PNGs of `size` px to `output_dir`; returns their paths."""
  if num_images < 1:
    raise ValueError(f"num_images must be >= 1, got {num_images}")
  if size < 16:
    raise ValueError(f"size must be >= 16 pixels, got {size}")
  os.makedirs(output_dir, exist_ok=True)
  paths = []
  start = last_log = time.monotonic()
  for index in range(num_images):
    image = render_illustration(image_rng(seed, index), size)
    ok, encoded = cv2.imencode(".png", image[..., ::-1])
    if not ok:
      raise RuntimeError(f"OpenCV could not encode image {index} as PNG")
    path = os.path.join(output_dir, f"{index:05d}.png")
    io_utils.atomic_write_bytes(path, encoded.tobytes())
    paths.append(path)
    now = time.monotonic()
    if now - last_log > 5 or index + 1 == num_images:
      last_log = now
      logging.info("synthesized %d/%d images (%.0f images/s)", index + 1,
                   num_images, (index + 1) / max(now - start, 1e-9))
  return paths


@dataclasses.dataclass(frozen=True)
class SynthesizeSettings:
  """The flags of `python -m data_tools.synthesize` (synthesize_dataset's arguments)."""

  output_dir: str = field("", "Folder the PNG files are written to (required).")
  num_images: int = field(200, "Number of illustrations.")
  size: int = field(256, "Side of the square images, in pixels.")
  seed: int = field(0, "Seed; image i depends only on (seed, i).")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  settings = flags_lib.dataclass_from_flags(SynthesizeSettings)
  flags_lib.require(settings, "output_dir")
  synthesize_dataset(**dataclasses.asdict(settings))


if __name__ == "__main__":
  # Flags are defined only when run as a program, so importing the library
  # (tests, benchmarks) does not claim names like --seed in the global FLAGS.
  flags_lib.define_dataclass_flags(SynthesizeSettings)
  flags.adopt_module_key_flags(flags_lib)  # Listed by --help.
  cli.run(main)
