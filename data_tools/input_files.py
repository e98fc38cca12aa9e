"""The builder's input: which files of a folder are images, and which are excluded.

Keys are paths relative to --input_dir with '/' separators; the launcher lists
local folders (list_images), the Beam workers list gs:// or s3:// ones
(beam_build.KeyFiles), both with the same tests (is_image_key, is_excluded).
"""

import os

from data_tools import images as images_lib


def list_images(input_dir):
  """[(key, path, size_in_bytes)] of every image under `input_dir`, sorted by key.

  The key is the path relative to `input_dir` with '/' separators. (A URL,
  gs://..., is listed inside the Beam pipeline instead.)
  """
  found = []
  for root, dirs, names in os.walk(input_dir):
    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
    for name in names:
      if name.startswith(".") or not name.lower().endswith(images_lib.IMAGE_EXTENSIONS):
        continue
      path = os.path.join(root, name)
      key = os.path.relpath(path, input_dir).replace(os.sep, "/")
      try:
        size = os.path.getsize(path)
      except OSError:  # A broken link: the worker reports it as unreadable.
        size = -1
      found.append((key, path, size))
  return sorted(found)


def is_image_key(key):
  """An image file name outside hidden folders ('/'-separated key)."""
  return (key.lower().endswith(images_lib.IMAGE_EXTENSIONS)
          and not any(part.startswith(".") for part in key.split("/")))


def read_exclude_keys(path):
  """The set of entries of an exclude file (blank lines and '#' comments ignored)."""
  if not path:
    return frozenset()
  with open(path, encoding="utf-8") as f:
    entries = (line.split("#", 1)[0].strip() for line in f)
    return frozenset(entry for entry in entries if entry)


def is_excluded(key, exclude):
  """A key is excluded by itself, by itself without extension, or by its stem."""
  without_extension = os.path.splitext(key)[0]
  stem = without_extension.rsplit("/", 1)[-1]
  return key in exclude or without_extension in exclude or stem in exclude
