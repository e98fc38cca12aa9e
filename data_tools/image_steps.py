"""Per-image steps of the dataset builder, defined once for all its runners.

The process pool (`--runner=local`) and the Beam DoFns (`data_tools/beam_build.py`)
call these plain functions, so a record does not depend on where it was made.
No TensorFlow here: importing it costs seconds per worker process (tens of
seconds on a loaded machine), and the CPU steps never need it.
"""

import time

import numpy as np

from data_tools import images as images_lib
from tfcolor.data import schema


def prepare_rgb(path, config):
  """Decode, orient, size filter, resize, colourfulness filter: uint8 RGB.

  `config` is a BuildConfig. Raises images.SkipImage with the reason.
  """
  rgb = images_lib.load_rgb(path)
  height, width = rgb.shape[:2]
  if min(height, width) < config.min_source_side:
    raise images_lib.SkipImage(
        f"too small: {width}x{height}, shorter side below "
        f"--min_source_side={config.min_source_side}")
  rgb = images_lib.resize_shorter_side(rgb, config.min_side, config.max_side)
  score = images_lib.colorfulness(rgb)
  if score < config.min_colorfulness:
    raise images_lib.SkipImage(
        f"not colourful: colourfulness {score:.1f} < "
        f"--min_colorfulness={config.min_colorfulness:g}")
  return rgb


def checked_lineart(lineart, rgb, kind):
  """Rejects line art that breaks the extractor contract (shape, dtype)."""
  lineart = np.asarray(lineart)
  if lineart.dtype != np.uint8 or lineart.shape != rgb.shape[:2]:
    raise ValueError(f"{kind} returned {lineart.dtype} {lineart.shape}, expected "
                     f"uint8 {rgb.shape[:2]}")
  return lineart


def process_file(key, path, config, cpu_extractors, keep_rgb):
  """One file -> a result dict: encoded image and CPU line art, or `skip` (a reason).

  `cpu_extractors`: {kind: extractor} run here one image at a time; `keep_rgb`
  keeps the decoded pixels for the batched (neural) extractors of a later step.
  Whatever one odd file does, the caller gets a result, never an exception.
  """
  result = {"key": key, "skip": None, "image": None, "lineart": {}, "rgb": None,
            "seconds": {}}
  try:
    rgb = prepare_rgb(path, config)
    result["image"] = images_lib.encode_image(rgb, config.image_format,
                                              config.jpeg_quality)
    for kind, extractor in cpu_extractors.items():
      start = time.perf_counter()
      try:
        lineart = checked_lineart(extractor.extract(rgb), rgb, kind)
      except Exception as error:  # pylint: disable=broad-except
        raise images_lib.SkipImage(
            f"line art failed: {kind}: {type(error).__name__}: {error}") from None
      result["seconds"][kind] = time.perf_counter() - start
      result["lineart"][kind] = images_lib.encode_png(lineart)
    if keep_rgb:
      result["rgb"] = rgb
  except images_lib.SkipImage as reason:
    result["skip"] = str(reason)
  except Exception as error:  # pylint: disable=broad-except
    result["skip"] = f"failed: {type(error).__name__}: {error}"
  return result


def batch_lineart(kind, extractor, images):
  """Line art per image through `extract_batch`, or an error message per image.

  If the batch fails, its images are retried one by one, so only the culprit
  is lost.
  """
  try:
    outcomes = [checked_lineart(lineart, image, kind)
                for lineart, image in zip(extractor.extract_batch(images), images)]
    if len(outcomes) != len(images):
      raise ValueError(f"extract_batch returned {len(outcomes)} results for "
                       f"{len(images)} images")
    return outcomes
  except Exception:  # pylint: disable=broad-except
    outcomes = []
    for image in images:
      try:
        outcomes.append(checked_lineart(extractor.extract_batch([image])[0], image,
                                        kind))
      except Exception as error:  # pylint: disable=broad-except
        outcomes.append(f"{type(error).__name__}: {error}")
    return outcomes


def add_batch_linearts(results, batch_extractors, seconds=None):
  """Adds each batched kind's line art to `results`: (complete, skipped entries).

  `seconds` (a Counter), if given, gains each kind's extraction time.
  """
  failures = {}
  for kind, extractor in batch_extractors.items():
    todo = [r for r in results if r["key"] not in failures]
    start = time.perf_counter()
    outcomes = batch_lineart(kind, extractor, [r["rgb"] for r in todo])
    if seconds is not None:
      seconds[kind] += time.perf_counter() - start
    for result, outcome in zip(todo, outcomes):
      if isinstance(outcome, str):
        failures[result["key"]] = f"line art failed: {kind}: {outcome}"
      else:
        result["lineart"][kind] = images_lib.encode_png(outcome)
  complete = [r for r in results if r["key"] not in failures]
  return complete, [{"key": key, "reason": reason} for key, reason in failures.items()]


# ---------------------------------------------------------------------------
# tf.train.Example bytes without TensorFlow (tests compare with TensorFlow's).


def _varint(value):
  out = bytearray()
  while True:
    byte = value & 0x7F
    value >>= 7
    if value:
      out.append(byte | 0x80)
    else:
      out.append(byte)
      return bytes(out)


def _field(number, payload):
  """A length-delimited protobuf field (wire type 2)."""
  return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def serialize_example(features):
  """{name: bytes} -> a serialized tf.train.Example of one-value BytesLists.

  Example{features: Features{feature: map<string, Feature{bytes_list:
  BytesList{value}}>}}, map entries in the given order.
  """
  entries = b"".join(
      _field(1, _field(1, name.encode("utf-8")) + _field(2, _field(1, _field(1, value))))
      for name, value in features.items())
  return _field(1, entries)


def serialize_record(key, image, linearts):
  """One record of the schema (tfcolor/data/schema.py) as tf.train.Example bytes.

  key: str; image: encoded image; linearts: {kind: encoded PNG}.
  """
  features = {schema.KEY: key.encode("utf-8", "surrogateescape"), schema.IMAGE: image}
  for kind, lineart in linearts.items():
    features[schema.lineart_feature(kind)] = lineart
  return serialize_example(features)
