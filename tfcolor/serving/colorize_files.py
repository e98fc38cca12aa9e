"""Colorizes line art files with an export: a SavedModel folder or a .tflite file.

Used by `python -m tfcolor.colorize`. Files go through in batches of equal
size, with a progress bar on a terminal (`keras.utils.Progbar`) and progress
log lines otherwise (files processed / total, written, failed); a file that
cannot be read is logged by name and skipped, and the run reports which ones
failed. Outputs are PNGs written atomically.
"""

import dataclasses
import os
import sys

from absl import logging
import numpy as np

from tfcolor import visualize
from tfcolor.config import field
from tfcolor.serving import hint_files
from tfcolor.serving import page_scaling

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif")


@dataclasses.dataclass(frozen=True)
class ColorizeConfig:
  """Settings of `python -m tfcolor.colorize` (each field is also its flag)."""

  model: str = field("", "A SavedModel folder (tfcolor.export) or a .tflite file.")
  lineart: str = field("", "A line art image, or a folder of them.")
  hints: str = field(
      "", "Hints: a transparent PNG layer or a points file (x y #rrggbb [size]); for a "
      "--lineart folder, a folder of <name>.png / <name>.txt. '' = automatic.")
  output: str = field("", "Output PNG, or a folder (for a --lineart folder).")
  batch_size: int = field(4, "Images of equal size colourised together (SavedModel).")
  max_side: int = field(
      page_scaling.DEFAULT_MAX_SIDE,
      "Pages whose longer side exceeds this are colourised at this size and scaled "
      "back (memory grows with the area: ~1.4 GB per megapixel at the default widths); "
      "0 = never scale.")


class SavedModelColorizer:
  """uint8 batches through a SavedModel's serving_default signature."""

  def __init__(self, path):
    # pylint: disable=import-outside-toplevel
    from google.protobuf import message
    import tensorflow as tf
    from tfcolor import checkpoint_recovery
    try:
      signatures = tf.saved_model.load(path).signatures
    except (message.DecodeError,) + checkpoint_recovery.READ_ERRORS as error:
      raise ValueError(
          f"--model={path}: the SavedModel is damaged or incomplete "
          f"({checkpoint_recovery.read_error_reason(error)}); export it again with "
          "python -m tfcolor.export") from None
    if "serving_default" not in signatures:
      raise ValueError(f"--model={path}: the SavedModel has no serving_default signature "
                       f"(it has {sorted(signatures)}); is it a tfcolor export?")
    self._serve = signatures["serving_default"]

  def colorize_batch(self, lineart, hints):
    return self._serve(lineart=lineart, hints=hints)["image"].numpy()


class _TFLiteBatchColorizer:
  def __init__(self, path):
    from tfcolor.serving import tflite_runner  # pylint: disable=import-outside-toplevel
    self._colorizer = tflite_runner.TFLiteColorizer(model_path=path)

  def colorize_batch(self, lineart, hints):
    return np.stack([self._colorizer.colorize(l, h) for l, h in zip(lineart, hints)])


def load_colorizer(path):
  """A colorizer for a SavedModel folder or a .tflite file."""
  if path.endswith(".tflite"):
    if not os.path.isfile(path):
      raise FileNotFoundError(f"--model={path}: no such .tflite file")
    return _TFLiteBatchColorizer(path)
  if not os.path.isfile(os.path.join(path, "saved_model.pb")):
    raise FileNotFoundError(f"--model={path} is neither a .tflite file nor a SavedModel "
                            "folder (no saved_model.pb; give EXPORT_DIR/<version>)")
  return SavedModelColorizer(path)


def _jobs(config):
  """(line art path, hints path or '', output path) for every input file."""
  if os.path.isdir(config.lineart):
    names = sorted(n for n in os.listdir(config.lineart)
                   if not n.startswith(".") and os.path.isfile(os.path.join(config.lineart, n)))
    if config.hints and not os.path.isdir(config.hints):
      raise ValueError(f"--lineart={config.lineart} is a folder, so --hints must be a "
                       f"folder of <name>.png / <name>.txt too, got {config.hints}")
    jobs = []
    for name in names:
      stem = os.path.splitext(name)[0]
      hints = ""
      for suffix in (".png", ".txt"):
        candidate = os.path.join(config.hints, stem + suffix) if config.hints else ""
        if candidate and os.path.isfile(candidate):
          hints = candidate
          break
      jobs.append((os.path.join(config.lineart, name), hints,
                   os.path.join(config.output, stem + ".png")))
    return jobs
  if not os.path.exists(config.lineart):
    raise FileNotFoundError(f"--lineart={config.lineart} does not exist")
  output = config.output
  if os.path.isdir(output) or output.endswith(os.sep):
    output = os.path.join(output, os.path.splitext(os.path.basename(config.lineart))[0]
                          + ".png")
  return [(config.lineart, config.hints, output)]


class Progress:
  """Files processed out of the total: a progress bar on a terminal, else log lines.

  Args:
    total: number of input files.
    interactive: draw a `keras.utils.Progbar` (None = when stdout is a TTY,
      where Progbar draws). Otherwise each update is an INFO log line, which
      keeps logs of batch jobs readable.
  """

  def __init__(self, total, interactive=None):
    if interactive is None:
      interactive = hasattr(sys.stdout, "isatty") and sys.stdout.isatty()
    self.total = total
    self._reported = -1
    self._bar = None
    if interactive:
      import keras  # pylint: disable=import-outside-toplevel
      self._bar = keras.utils.Progbar(total, unit_name="file",
                                      stateful_metrics=["written", "failed"])

  def update(self, written, failed):
    done = written + failed
    if done == self._reported:
      return
    self._reported = done
    if self._bar is not None:
      self._bar.update(done, values=[("written", written), ("failed", failed)])
    else:
      logging.info("colorized %d/%d files (%d written, %d failed)", done, self.total,
                   written, failed)


def _read(job):
  lineart_path, hints_path, _ = job
  lineart = hint_files.read_lineart(lineart_path)
  height, width = lineart.shape
  hints = (hint_files.read_hints(hints_path, height, width) if hints_path
           else np.zeros((height, width, 4), np.uint8))
  return lineart, hints


def colorize_files(config, colorizer=None):
  """Colorizes every file of `config`; returns {"written": [...], "failed": {path: error}}."""
  for name in ("model", "lineart", "output"):
    if not getattr(config, name):
      raise ValueError(f"--{name} is required")
  if config.batch_size < 1:
    raise ValueError("--batch_size must be >= 1")
  page_scaling.check_max_side(config.max_side)
  jobs = _jobs(config)
  colorizer = colorizer or load_colorizer(config.model)
  progress = Progress(len(jobs))
  written, failed = [], {}
  pending = []  # [(job, lineart, hints)] of one size

  def flush():
    if not pending:
      return
    lineart = np.stack([p[1] for p in pending])[..., None]
    hints = np.stack([p[2] for p in pending])
    images = colorizer.colorize_batch(lineart, hints)
    for (job, _, _), image in zip(pending, images):
      visualize.save_png(job[2], image)
      written.append(job[2])
    pending.clear()
    progress.update(len(written), len(failed))

  for job in jobs:
    try:
      lineart, hints = _read(job)
    except (OSError, ValueError) as error:
      logging.error("skipping %s: %s", job[0], error)
      failed[job[0]] = str(error)
      progress.update(len(written), len(failed))
      continue
    height, width = lineart.shape
    if page_scaling.scaled_size(height, width, config.max_side) != (height, width):
      image, _ = page_scaling.colorize_page(colorizer, lineart[..., None], hints,
                                            config.max_side)
      logging.info("%s: %dx%d page colourised at %dx%d (--max_side=%d) and scaled back",
                   job[0], width, height,
                   *page_scaling.scaled_size(width, height, config.max_side),
                   config.max_side)
      visualize.save_png(job[2], image)
      written.append(job[2])
      progress.update(len(written), len(failed))
      continue
    if pending and pending[0][1].shape != lineart.shape:
      flush()
    pending.append((job, lineart, hints))
    if len(pending) >= config.batch_size:
      flush()
  flush()
  if failed:
    logging.warning("%d of %d files failed: %s", len(failed), len(jobs), sorted(failed))
  logging.info("wrote %d of %d files to %s", len(written), len(jobs), config.output)
  return {"written": written, "failed": failed}
