"""Shard sets: the files `<split>-NNNNN-of-MMMMM.tfrecord` of one dataset build.

One build writes one set per split (every shard says `-of-MMMMM`). A folder
rebuilt with another `--num_shards` could hold two sets of a split, and a glob
over it would read every example twice, silently. The builder replaces the
set it supersedes (`superseded_shards`), and the input pipeline refuses a
file list that mixes sets (`check_single_set`). Pure Python: the dataset
builder imports it without TensorFlow.
"""

import collections
import os
import re

_SHARD_RE = re.compile(r"^(?P<split>.+)-\d+-of-(?P<count>\d+)\.tfrecord$")


def shard_set(path):
  """(folder, split, shard count) of a shard file name, or None for other names."""
  match = _SHARD_RE.match(os.path.basename(path))
  if not match:
    return None
  return os.path.dirname(path), match["split"], int(match["count"])


def check_single_set(files, flag_name):
  """Raises ValueError when `files` hold shards of two sets of one split in one folder.

  Names the folder, the split and each set's `-of-` count with its file count.
  """
  counts = collections.defaultdict(collections.Counter)
  for path in files:
    found = shard_set(path)
    if found:
      folder, split, count = found
      counts[(folder, split)][count] += 1
  for (folder, split), sets in sorted(counts.items()):
    if len(sets) > 1:
      described = " and ".join(f"{split}-*-of-{count:05d}.tfrecord ({files_} files)"
                               for count, files_ in sorted(sets.items()))
      raise ValueError(
          f"{flag_name} matches shards of {len(sets)} builds of split {split!r} in "
          f"{folder or '.'}: {described}; every example would be read more than once. "
          "Rebuild into this folder (the builder replaces the set it supersedes), "
          "delete the old set, or narrow the glob.")


def listed_shards(report):
  """Shard file names a builder's report.json lists (all splits); [] if unreadable."""
  try:
    return sorted(name for entry in report.get("splits", {}).values()
                  for name in entry.get("shards", {}))
  except AttributeError:  # Not a report of this format.
    return []


def superseded_shards(previous_report, new_shards):
  """Shards the previous build's report lists that the new build does not make."""
  return sorted(set(listed_shards(previous_report or {})) - set(new_shards))
