"""The dataset builder's settings (BuildConfig, one field per flag) and their checks.

One source of truth for the builder's flags: the CLI defines them from the
dataclass, both runners read the config. Pure Python (no TensorFlow, no Beam),
so worker processes can unpickle it cheaply.
"""

import dataclasses
import os
from typing import Tuple

from data_tools import images as images_lib
from data_tools.extractors import KINDS
from tfcolor import io_utils
from tfcolor.config import field

LOCAL_RUNNER = "local"  # --runner: the builder's own process pool, not Beam.


@dataclasses.dataclass(frozen=True)
class BuildConfig:
  """What the dataset builder reads, how it filters and resizes, what it writes."""

  input_dir: str = field("", "Folder of illustrations (PNG, JPEG, WebP; nested).")
  output_dir: str = field("", "Folder for the TFRecord shards and report.json.")
  extractors: Tuple[str, ...] = field(
      ("xdog",), f"Line art kinds to write, from {list(KINDS)}.")
  num_shards: int = field(
      8, "TFRecord files of the train split; val and test get shards in proportion "
      "to their fraction of train (at least one each).")
  train_fraction: float = field(0.98, "Share of keys in the train split (paper: 98%).")
  val_fraction: float = field(0.01, "Share of keys in the val split.")
  test_fraction: float = field(0.01, "Share of keys in the test split.")
  min_side: int = field(
      0, "Upscale images whose shorter side is below this to it (0 = never).")
  max_side: int = field(
      0, "Downscale images whose shorter side is above this to it (0 = never); "
      "Danbooru as in the paper: --min_side=768 --max_side=768.")
  min_source_side: int = field(
      64, "Skip images whose shorter side is below this many pixels before resizing.")
  min_colorfulness: float = field(
      15.0, "Skip images whose Hasler-Süsstrunk colourfulness is below this "
      "(greyscale = 0; 15 = their 'slightly colourful'); 0 keeps everything.")
  exclude_keys: str = field(
      "", "Text file of keys to skip, one a line ('#' comments): a key, the key "
      "without extension, or a bare file name stem (e.g. a Danbooru id).")
  image_format: str = field(
      "png", "Encoding of the `image` feature (png is lossless).",
      images_lib.IMAGE_FORMATS)
  jpeg_quality: int = field(95, "JPEG quality when --image_format=jpeg.")
  num_workers: int = field(
      0, "Worker processes (0 = one per CPU core; 1 = all in the main process).")
  extract_chunk_size: int = field(
      32, "Images handed at once to each main-process (neural) extractor.")
  runner: str = field(
      "", "'' = Apache Beam on this machine (DirectRunner, --num_workers processes); "
      "'local' = the builder's own process pool (resumes shard by shard); or a Beam "
      "runner (DataflowRunner, FlinkRunner, SparkRunner, ...). Other Beam pipeline "
      "options go on the same command line (docs/data.md).")


def validate_build_config(config):
  """Raises ValueError naming the flag for settings that cannot work."""
  if not config.input_dir:
    raise ValueError("--input_dir is required")
  if not images_lib.is_url(config.input_dir) and not os.path.isdir(config.input_dir):
    raise ValueError(f"--input_dir={config.input_dir} is not a folder")
  if not config.output_dir:
    raise ValueError("--output_dir is required")
  io_utils.check_writable_folder(config.output_dir, "--output_dir")
  if not config.extractors:
    raise ValueError("--extractors needs at least one line art kind")
  if len(set(config.extractors)) != len(config.extractors):
    raise ValueError(f"--extractors lists a kind twice: {list(config.extractors)}")
  fractions = (config.train_fraction, config.val_fraction, config.test_fraction)
  if any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
    raise ValueError("--train_fraction, --val_fraction and --test_fraction must be "
                     f">= 0 and sum to 1, got {fractions}")
  if config.num_shards < 1:
    raise ValueError(f"--num_shards must be >= 1, got {config.num_shards}")
  if config.min_side < 0 or config.max_side < 0 or config.min_source_side < 0:
    raise ValueError("--min_side, --max_side and --min_source_side must be >= 0")
  if config.min_side and config.max_side and config.min_side > config.max_side:
    raise ValueError(f"--min_side={config.min_side} is above "
                     f"--max_side={config.max_side}")
  if config.image_format not in images_lib.IMAGE_FORMATS:
    raise ValueError(f"--image_format must be one of {images_lib.IMAGE_FORMATS}")
  if not 1 <= config.jpeg_quality <= 100:
    raise ValueError(f"--jpeg_quality must be in 1..100, got {config.jpeg_quality}")
  if config.num_workers < 0:
    raise ValueError(f"--num_workers must be >= 0, got {config.num_workers}")
  if config.extract_chunk_size < 1:
    raise ValueError("--extract_chunk_size must be >= 1")
  if config.runner == LOCAL_RUNNER and (images_lib.is_url(config.input_dir)
                                       or images_lib.is_url(config.output_dir)):
    raise ValueError("--runner=local reads and writes local folders only; give a "
                     "Beam runner for gs:// or s3:// paths")
  if config.exclude_keys and not os.path.isfile(config.exclude_keys):
    raise ValueError(f"--exclude_keys={config.exclude_keys} is not a file")
  return config
