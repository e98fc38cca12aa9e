"""The TFRecord files a setting names: comma-separated globs, local or remote.

One definition for the trainer's preflight check and the input pipeline.
Free of TensorFlow for local paths, so `python -m tfcolor.train` reports an
empty glob in about a second; gs://, hdfs://, ... are listed by tf.io.gfile.
"""

import glob

from tfcolor.data import shard_sets


def split_patterns(patterns):
  """A comma-separated string, or a list, of globs -> the non-empty globs."""
  if isinstance(patterns, str):
    patterns = patterns.split(",")
  return [p.strip() for p in patterns if p and p.strip()]


def _matches(pattern):
  if "://" in pattern:  # Only TensorFlow can list these.
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    return tf.io.gfile.glob(pattern)
  return glob.glob(pattern)


def resolve_files(patterns, setting):
  """Sorted, de-duplicated files matching comma-separated glob(s).

  Args:
    patterns: a string of comma-separated globs, or a list of globs/paths.
    setting: what gave the patterns, named in errors, e.g. "--train_data".

  Raises:
    ValueError: nothing given, a pattern that matches no file, or shards of
      two builds of one split (`shard_sets.check_single_set`).
  """
  patterns = split_patterns(patterns)
  if not patterns:
    raise ValueError(f"{setting} is empty: give a glob (or comma-separated globs) "
                     "of TFRecord files")
  files = []
  for pattern in patterns:
    matches = _matches(pattern)
    if not matches:
      raise ValueError(f"{setting}: pattern {pattern!r} matches no files (paths are "
                       "relative to the working directory)")
    files.extend(matches)
  files = sorted(set(files))
  shard_sets.check_single_set(files, setting)
  return files
