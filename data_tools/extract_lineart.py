r"""Turns colour illustrations into line art PNGs, e.g. a page to colorize.

  python -m data_tools.extract_lineart --input=illustration.jpg --output=page.png
  python -m data_tools.extract_lineart --input=illustrations/ --output=pages/ \
      --extractor=sketchkeras --sketchkeras_weights=mod.h5

The extractors and their flags (`--xdog_sigma`, ...) are those of
`data_tools.build_tfrecords`, so the line art looks like what a model was
trained on. A folder is read flat (no subfolders); every file becomes
`<stem>.png` in the --output folder. A file that is not an image is logged by
name and skipped, and the exit status is then 1. Details: docs/data.md.
"""

import dataclasses
import os
import sys

import numpy as np
from absl import app, flags, logging

from data_tools import images as images_lib
from data_tools.extractors import configs as extractor_configs_lib
from data_tools.extractors import (KINDS, ExtractorUnavailableError,
                                   create_extractor)
from tfcolor import cli
from tfcolor import flags as flags_lib
from tfcolor import visualize
from tfcolor.config import field


@dataclasses.dataclass(frozen=True)
class ExtractLineartConfig:
  """What the tool reads, with which extractor, and where it writes."""

  input: str = field("", "A colour illustration, or a folder of them (not nested).")
  output: str = field(
      "", "Line art PNG for an --input file (an existing folder gets <stem>.png); "
      "a folder for an --input folder (created), one <stem>.png per image.")
  extractor: str = field(
      "xdog", "Line art kind; sketchkeras and simplification need their "
      "--sketchkeras_weights / --simplification_weights.", KINDS)
  max_side: int = field(
      0, "Downscale images whose shorter side is above this to it (0 = keep the "
      "size); the XDoG defaults suit 256-768 px, the paper's data is 768 px.")
  extract_chunk_size: int = field(
      32, "Images per extract_batch call of a neural extractor (XDoG goes one by "
      "one).")


def plan_files(config):
  """[(input path, output path)]; ValueError naming the flag if it cannot work."""
  if not config.input:
    raise ValueError("--input is required")
  if not config.output:
    raise ValueError("--output is required")
  if config.max_side < 0:
    raise ValueError(f"--max_side must be >= 0, got {config.max_side}")
  if config.extract_chunk_size < 1:
    raise ValueError("--extract_chunk_size must be >= 1")
  if os.path.isdir(config.input):
    if os.path.exists(config.output) and not os.path.isdir(config.output):
      raise ValueError(f"--input={config.input} is a folder, so --output must be a "
                       f"folder too, but {config.output} is a file")
    if _same_path(config.input, config.output):
      raise ValueError("--output must not be the --input folder (<stem>.png would "
                       "overwrite PNG illustrations)")
    names = sorted(name for name in os.listdir(config.input) if not name.startswith(".")
                   and os.path.isfile(os.path.join(config.input, name)))
    if not names:
      raise ValueError(f"--input={config.input} holds no files")
    return [(os.path.join(config.input, name),
             os.path.join(config.output, os.path.splitext(name)[0] + ".png"))
            for name in names]
  if not os.path.isfile(config.input):
    raise ValueError(f"--input={config.input} does not exist")
  output = config.output
  if os.path.isdir(output) or output.endswith(os.sep):
    output = os.path.join(
        output, os.path.splitext(os.path.basename(config.input))[0] + ".png")
  elif not output.lower().endswith(".png"):
    raise ValueError(f"--output={output} must end in .png (line art is written as PNG)")
  if _same_path(config.input, output):
    raise ValueError(f"--output={output} would overwrite --input")
  return [(config.input, output)]


def _same_path(a, b):
  return os.path.realpath(a) == os.path.realpath(b)


def _checked(lineart, rgb):
  """The extractor contract (uint8, same height and width), or ValueError."""
  lineart = np.asarray(lineart)
  if lineart.dtype != np.uint8 or lineart.shape != rgb.shape[:2]:
    raise ValueError(f"extractor returned {lineart.dtype} {lineart.shape}, expected "
                     f"uint8 {rgb.shape[:2]}")
  return lineart


def _extract_chunk(extractor, images):
  """Line art or an error message per image; one by one if the batch fails."""
  try:
    results = extractor.extract_batch(images)
    if len(results) != len(images):
      raise ValueError(f"extract_batch returned {len(results)} results for "
                       f"{len(images)} images")
    return [_checked(lineart, rgb) for lineart, rgb in zip(results, images)]
  except Exception:  # pylint: disable=broad-except
    outcomes = []
    for rgb in images:  # Find the culprit; the others are still written.
      try:
        outcomes.append(_checked(extractor.extract_batch([rgb])[0], rgb))
      except Exception as error:  # pylint: disable=broad-except
        outcomes.append(f"line art failed: {type(error).__name__}: {error}")
    return outcomes


def extract_lineart_files(config, extractor_config=None):
  """Writes line art for every file of `config`.

  Args:
    config: an ExtractLineartConfig.
    extractor_config: the config dataclass of `config.extractor` (None = defaults).

  Returns:
    {"written": [output paths], "failed": {input path: reason}}.

  Raises:
    ValueError, FileNotFoundError or ExtractorUnavailableError, naming the
    flag, before anything is read or written.
  """
  jobs = plan_files(config)
  extractor = create_extractor(config.extractor, extractor_config)
  if os.path.isdir(config.input):
    os.makedirs(config.output, exist_ok=True)
  # CPU extractors go one image at a time; neural ones get chunks to batch.
  chunk_size = 1 if extractor.runs_in_worker_processes else config.extract_chunk_size
  written, failed, chunk, claimed = [], {}, [], {}

  def fail(source, reason):
    logging.error("skipping %s: %s", source, reason)
    failed[source] = reason

  def flush():
    outcomes = _extract_chunk(extractor, [rgb for _, _, rgb in chunk])
    for (source, target, _), lineart in zip(chunk, outcomes):
      if isinstance(lineart, str):
        fail(source, lineart)
        continue
      visualize.save_png(target, lineart)
      written.append(target)
      logging.info("[%d/%d] %s -> %s", len(written) + len(failed), len(jobs), source,
                   target)
    chunk.clear()

  for source, target in jobs:
    if target in claimed:  # a.jpg and a.png in one folder.
      fail(source, f"{target} is already the line art of {claimed[target]}")
      continue
    try:
      rgb = images_lib.load_rgb(source)
    except images_lib.SkipImage as reason:
      fail(source, str(reason))
      continue
    claimed[target] = source
    chunk.append((source, target, images_lib.resize_shorter_side(rgb, 0, config.max_side)))
    if len(chunk) >= chunk_size:
      flush()
  if chunk:
    flush()
  if failed:
    logging.error("%d of %d files failed: %s", len(failed), len(jobs), sorted(failed))
  logging.info("wrote %d of %d files (%s line art)", len(written), len(jobs),
               config.extractor)
  return {"written": written, "failed": failed}


# ---------------------------------------------------------------------------
# Command line.


def define_flags(flag_values=flags.FLAGS):
  """This tool's flags and every extractor's (e.g. --xdog_sigma)."""
  flags_lib.define_dataclass_flags(ExtractLineartConfig, flag_values)
  extractor_configs_lib.define_flags(flag_values)


def configs_from_flags(flag_values=flags.FLAGS):
  """(ExtractLineartConfig, the chosen extractor's config) from parsed flags."""
  config = flags_lib.dataclass_from_flags(ExtractLineartConfig, flag_values)
  return config, extractor_configs_lib.configs_from_flags(
      [config.extractor], flag_values)[config.extractor]


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  config, extractor_config = configs_from_flags()
  try:
    result = extract_lineart_files(config, extractor_config)
  except (ValueError, FileNotFoundError, ExtractorUnavailableError) as error:
    raise app.UsageError(str(error)) from None
  for path in result["written"]:
    print(path)
  if result["failed"]:
    sys.exit(1)


if __name__ == "__main__":
  # Flags are defined only when run as a program, so importing the library
  # (tests, other tools) does not claim names in the global FLAGS.
  define_flags()
  flags.adopt_module_key_flags(flags_lib)  # List them in --help.
  cli.run(main)
