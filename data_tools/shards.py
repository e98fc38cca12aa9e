"""Splits, shard names and the resumable shard writer of the dataset builder.

A key's split and shard come from a hash of the key alone, so they never depend
on which other files are in the folder, on the runner or on the order of work
(`shard_for`, used by the process pool and the Beam pipeline alike); within a
shard, records follow their keys in sorted order. A shard counts as finished only when its
TFRecord file exists and its done marker (`OUT/.done/<shard>.json`) holds the
fingerprint of this build's settings and the shard's input files: a shard left
by a run with other settings, other files or a kill before the marker is
rewritten. Shards are written to a hidden temporary name and renamed.
"""

import hashlib
import json
import math
import os

from data_tools import image_steps
from tfcolor import io_utils

SPLITS = ("train", "val", "test")
DONE_DIR = ".done"
TEMP_PREFIX = ".tmp-"
_HASH_SCALE = float(1 << 64)


def _key_hash(key):
  # surrogateescape: file names that are not valid UTF-8 still hash (and write).
  return hashlib.sha1(key.encode("utf-8", "surrogateescape")).digest()


def split_of(key, fractions):
  """'train', 'val' or 'test' for `key`: a sha1 bucket in [0, 1) against the fractions."""
  bucket = int.from_bytes(_key_hash(key)[:8], "big") / _HASH_SCALE
  edge = 0.0
  for split, fraction in zip(SPLITS, fractions):
    edge += fraction
    if fraction > 0 and bucket < edge:
      return split
  return [s for s, f in zip(SPLITS, fractions) if f > 0][-1]  # Rounding at 1.0.


def shard_of(key, num_shards):
  """Shard index of `key` among `num_shards` (other bits of the same hash)."""
  return int.from_bytes(_key_hash(key)[8:16], "big") % num_shards


def shard_for(key, fractions, shard_counts):
  """The shard file name `key` goes to: its split, then its shard among the
  split's `shard_counts[split]` (as shards_per_split gives them)."""
  split = split_of(key, fractions)
  count = shard_counts[split]
  return shard_name(split, shard_of(key, count), count)


def all_shards(shard_counts):
  """Every shard name of {split: shard count}, split by split."""
  return [shard_name(split, index, count)
          for split, count in shard_counts.items() for index in range(count)]


def shards_per_split(num_train_shards, fractions):
  """{split: shard count}: train gets the given count, val and test in proportion
  to their fraction of train (at least 1 each when their fraction is > 0)."""
  train_fraction = fractions[0]
  counts = {}
  for split, fraction in zip(SPLITS, fractions):
    if fraction <= 0:
      continue
    if split == "train":
      counts[split] = num_train_shards
    elif train_fraction > 0:
      share = num_train_shards * fraction / train_fraction
      counts[split] = max(1, math.ceil(share - 1e-9))
    else:
      counts[split] = num_train_shards
  return counts


def shard_name(split, index, count):
  return f"{split}-{index:05d}-of-{count:05d}.tfrecord"


def fingerprint(settings, shard, files):
  """Hash of everything that decides a shard's content.

  `settings`: JSON-friendly build settings; `files`: [(key, size_in_bytes)].
  """
  payload = json.dumps({"settings": settings, "shard": shard, "files": files},
                       sort_keys=True, separators=(",", ":"))
  return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def done_path(output_dir, shard):
  return os.path.join(output_dir, DONE_DIR, shard + ".json")


def read_done(output_dir, shard, expected_fingerprint):
  """The done marker of a finished shard, or None if it must be (re)written."""
  shard_path = os.path.join(output_dir, shard)
  try:
    with open(done_path(output_dir, shard), encoding="utf-8") as f:
      marker = json.load(f)
    size = os.path.getsize(shard_path)
  except (OSError, ValueError):
    return None
  if marker.get("fingerprint") != expected_fingerprint or marker.get("num_bytes") != size:
    return None
  return marker


def write_done(output_dir, shard, marker):
  io_utils.atomic_write_json(done_path(output_dir, shard), marker)


def remove_stale_temporaries(output_dir):
  """Deletes temporary shards a killed run left behind; returns their names."""
  removed = []
  for name in sorted(os.listdir(output_dir)):
    if name.startswith(TEMP_PREFIX) and name.endswith(".tfrecord"):
      os.remove(os.path.join(output_dir, name))
      removed.append(name)
  return removed


def remove_shards(output_dir, names):
  """Deletes the named shards and their done markers; returns the names deleted.

  For the shards of a superseded build only (names an earlier report.json
  lists), never a glob: other files in the folder are not touched.
  """
  removed = []
  for name in names:
    for path in (os.path.join(output_dir, name), done_path(output_dir, name)):
      if os.path.exists(path):
        os.remove(path)
        if path.endswith(".tfrecord"):
          removed.append(name)
  return removed


class ShardWriter:
  """Writes one shard's records to a temporary file, renamed on `commit`.

  The records are image_steps.serialize_record's, as in the Beam build.
  TensorFlow is imported here, in the main process only: the builder's worker
  processes stay free of it.
  """

  def __init__(self, output_dir, shard):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    self.final_path = os.path.join(output_dir, shard)
    self.temp_path = os.path.join(output_dir, TEMP_PREFIX + shard)
    self._writer = tf.io.TFRecordWriter(self.temp_path)
    self.num_records = 0

  def write(self, key, image, linearts):
    """One tf.train.Example: key (str), encoded image, {kind: encoded line art}."""
    self._writer.write(image_steps.serialize_record(key, image, linearts))
    self.num_records += 1

  def commit(self):
    """Closes and renames; returns the size of the finished file in bytes."""
    self._writer.close()
    os.replace(self.temp_path, self.final_path)
    return os.path.getsize(self.final_path)

  def abort(self):
    self._writer.close()
    if os.path.exists(self.temp_path):
      os.remove(self.temp_path)
