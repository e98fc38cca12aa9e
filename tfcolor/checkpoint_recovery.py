"""Which checkpoint of a run to restore: the newest one that reads completely.

One rule for training, export and evaluation alike. A checkpoint is found by
its files (`<name>-<number>.index` and `.data-*`), not only through the
`checkpoint` state file, so a lost state file does not hide a run's progress.
It is usable when its index exists and every tensor it lists reads back
(a truncated or missing data file fails here, with the file's name, instead
of deep inside a restore). Newer checkpoints that fail are skipped with a
warning naming them and the reason; when checkpoints exist but none reads,
`NoReadableCheckpointError` names the folder and its files.

Nothing here deletes or rewrites a checkpoint file. The trainer moves the
unreadable ones it skipped into `<checkpoints>/unreadable/` (`set_aside`) so
that a later save of the same step cannot overwrite them, nor the
CheckpointManager's clean-up delete them.
"""

import collections
import os
import re

from absl import logging
import tensorflow as tf

UNREADABLE_DIR = "unreadable"
_FILE_RE = re.compile(r"^(?P<prefix>.+-(?P<number>\d+))\.(index|data-\d+-of-\d+)$")
# What reading a damaged checkpoint raises: TF errors (missing or corrupt
# files), IndexError (a truncated data file), ValueError/OSError (bad files).
READ_ERRORS = (tf.errors.OpError, IndexError, ValueError, OSError)


class UnreadableCheckpointError(ValueError):
  """A checkpoint whose files do not read completely; says which and why."""


class NoReadableCheckpointError(ValueError):
  """A folder holds checkpoint files but no checkpoint reads completely."""


def checkpoint_files(directory):
  """prefix path -> sorted file names of each checkpoint in `directory`, newest first."""
  if not tf.io.gfile.isdir(directory):
    return {}
  found = collections.defaultdict(list)
  numbers = {}
  for name in tf.io.gfile.listdir(directory):
    match = _FILE_RE.match(name.rstrip("/"))
    if match:
      prefix = os.path.join(directory, match["prefix"])
      found[prefix].append(name)
      numbers[prefix] = int(match["number"])
  return {prefix: sorted(found[prefix])
          for prefix in sorted(found, key=numbers.get, reverse=True)}


def read_error_reason(error):
  """One line saying why reading a file failed (a truncated file says so)."""
  text = str(error).strip().splitlines()[0] if str(error).strip() else ""
  if isinstance(error, IndexError):
    return f"a data file is truncated ({text})"
  return f"{type(error).__name__}: {text}" if text else type(error).__name__


def check_readable(prefix):
  """Raises UnreadableCheckpointError unless every tensor of `prefix` reads back.

  Reads the whole checkpoint once, a tensor at a time (seconds for the
  paper-size model; memory of the largest tensor).
  """
  index = prefix + ".index"
  if not tf.io.gfile.exists(index):
    raise UnreadableCheckpointError(f"{index} is missing")
  try:
    reader = tf.train.load_checkpoint(prefix)
    for key in sorted(reader.get_variable_to_shape_map()):
      reader.get_tensor(key)
  except READ_ERRORS as error:
    raise UnreadableCheckpointError(
        f"{prefix} does not read: {read_error_reason(error)}") from None


def describe(prefix, names):
  return f"{os.path.basename(prefix)} ({', '.join(names)})"


def newest_readable(directory):
  """The newest checkpoint in `directory` that reads completely.

  Returns:
    (prefix or None when the folder holds no checkpoint files,
     list of (prefix, file names, reason) of the newer ones skipped).
  Raises:
    NoReadableCheckpointError: checkpoint files exist, but none reads.
  """
  skipped = []
  candidates = checkpoint_files(directory)
  for prefix, names in candidates.items():
    try:
      check_readable(prefix)
    except UnreadableCheckpointError as error:
      skipped.append((prefix, names, str(error)))
      continue
    for skipped_prefix, skipped_names, reason in skipped:
      logging.warning("Skipped checkpoint %s: %s; using the older %s",
                      describe(skipped_prefix, skipped_names), reason,
                      os.path.basename(prefix))
    return prefix, skipped
  if candidates:
    details = "; ".join(f"{describe(p, n)}: {reason}" for p, n, reason in skipped)
    raise NoReadableCheckpointError(
        f"{directory} holds checkpoint files but none reads completely, so nothing "
        f"was restored and no file was changed: {details}. Restore the files from a "
        "backup, or use another folder to start from scratch.")
  return None, skipped


def set_aside(directory, skipped):
  """Moves the files of skipped checkpoints into `directory/unreadable/`.

  Renames only (never over an existing file), so the bytes are kept for
  inspection and a new checkpoint of the same step cannot replace them.
  Returns the new paths.
  """
  if not skipped:
    return []
  target_dir = os.path.join(directory, UNREADABLE_DIR)
  tf.io.gfile.makedirs(target_dir)
  moved = []
  for _, names, _ in skipped:
    for name in names:
      target = os.path.join(target_dir, name)
      suffix = 1
      while tf.io.gfile.exists(target):
        target = os.path.join(target_dir, f"{name}.{suffix}")
        suffix += 1
      source = os.path.join(directory, name)
      if tf.io.gfile.exists(source):
        tf.io.gfile.rename(source, target)
        moved.append(target)
  if moved:
    logging.warning("Moved the unreadable checkpoint files to %s (kept, not deleted): %s",
                    target_dir, ", ".join(os.path.basename(p) for p in moved))
  return moved
