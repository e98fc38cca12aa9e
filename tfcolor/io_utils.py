"""Crash-safe file writes: write to a temporary name, then rename.

A killed job leaves either the old file or the new one, never half of one.
Works for local paths and for any filesystem tf.io.gfile supports (gs://, ...)
when TensorFlow is already imported by the caller.
"""

import json
import os
import tempfile


def _umask():
  mask = os.umask(0)
  os.umask(mask)
  return mask


def atomic_write_bytes(path, data):
  """Writes `data` (bytes) to `path` through a temporary file in the same folder."""
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=".tmp-",
                                  suffix=os.path.basename(path))
  try:
    with os.fdopen(fd, "wb") as f:
      f.write(data)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; act like open().
    os.replace(tmp_path, path)
  except BaseException:
    if os.path.exists(tmp_path):
      os.remove(tmp_path)
    raise


def atomic_write_json(path, obj):
  """Writes `obj` as indented JSON, atomically."""
  atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def check_writable_folder(path, flag_name):
  """Raises ValueError naming the flag unless `path` is, or can become, a writable folder.

  Changes nothing: checks the folder, or the nearest existing parent it would
  be created in. Local paths only (a `scheme://` path is left to its library).
  """
  if "://" in path:
    return
  if os.path.exists(path) and not os.path.isdir(path):
    raise ValueError(f"{flag_name}={path} is a file, not a folder")
  existing = os.path.abspath(path)
  while not os.path.exists(existing):
    existing = os.path.dirname(existing)
  if not os.path.isdir(existing):
    raise ValueError(f"{flag_name}={path}: {existing} is a file, so the folder cannot "
                     "be created")
  if not os.access(existing, os.W_OK | os.X_OK):
    raise ValueError(f"{flag_name}={path}: {existing} is not writable")
