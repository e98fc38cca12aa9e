"""The serving SavedModel: `export_base/<version>/`, the layout TF Serving watches.

TF Serving loads the highest numeric version. The model is written to a hidden
temporary folder in `export_base` and renamed into place, so TF Serving never
sees half a model and a crash leaves no numeric folder behind. Signatures:
`tfcolor.serving.signature`.
"""

import os
import re

from absl import logging
import keras
import tensorflow as tf

from tfcolor.serving import signature

_VERSION_RE = re.compile(r"^\d+$")


def existing_versions(export_base):
  """Numeric version folders already in `export_base`, sorted."""
  if not tf.io.gfile.isdir(export_base):
    return []
  return sorted(int(name.rstrip("/")) for name in tf.io.gfile.listdir(export_base)
                if _VERSION_RE.match(name.rstrip("/")))


def choose_version(export_base, step=None, version=0):
  """The version folder to write: `version` if given, else `step`, else the next free.

  An explicit `version` that exists already is an error (exports never
  overwrite); a step that exists already falls back to the next free integer.
  """
  taken = existing_versions(export_base)
  if version:
    if version in taken:
      raise FileExistsError(f"--version={version}: {export_base}/{version} exists "
                            "already; exports never overwrite, pick another version")
    return version
  if step and step not in taken:
    return step
  return (max(taken) + 1) if taken else 1


def new_archive():
  """An empty `keras.export.ExportArchive`; add endpoints, never `track()` the model.

  `add_endpoint` already records every variable the endpoints read. Keras
  3.15's `track(model)` records the model's Keras variables as well, which
  the SavedModel saves as separate objects: every weight was written twice
  (the default-width export took 1.7 GB instead of 0.89 GB), and the unused
  VGG19 block5 was written too.
  """
  return keras.export.ExportArchive()


def write_serving_archive(generator, path):
  """Writes the SavedModel with both signatures (see `signature`) to `path`.

  Through `keras.export.ExportArchive`, which records the variables the
  signatures use in the SavedModel's object graph: a plain
  `tf.saved_model.save` of a module holding the Keras 3 model reloaded in TF2
  Python but not in the session-based loader that TF Serving and
  `saved_model_cli run` use ("Could not find variable ..."). See
  `new_archive` for why the generator is not `track()`ed.
  """
  module = signature.ColorizationModule(generator)
  specs = signature.input_specs()
  archive = new_archive()
  for name, function in ((signature.SERVING_SIGNATURE, module.colorize_uint8),
                         (signature.FLOAT_SIGNATURE, module.colorize_float)):
    archive.add_endpoint(name, function, input_signature=[
        specs[signature.LINEART_KEY], specs[signature.HINTS_KEY]])
  archive.write_out(path, verbose=False)


def export_saved_model(generator, export_base, version):
  """Writes the serving SavedModel to `export_base/<version>`; returns that path."""
  final_path = os.path.join(export_base, str(version))
  if tf.io.gfile.exists(final_path):
    raise FileExistsError(f"{final_path} exists already; exports never overwrite")
  tf.io.gfile.makedirs(export_base)
  tmp_path = os.path.join(export_base, f".tmp-{version}-{os.getpid()}")
  if tf.io.gfile.exists(tmp_path):
    tf.io.gfile.rmtree(tmp_path)
  try:
    write_serving_archive(generator, tmp_path)
    tf.io.gfile.rename(tmp_path, final_path)
  except BaseException:
    if tf.io.gfile.exists(tmp_path):
      tf.io.gfile.rmtree(tmp_path)
    raise
  logging.info("Wrote SavedModel %s (signatures %s, %s)", final_path,
               signature.SERVING_SIGNATURE, signature.FLOAT_SIGNATURE)
  return final_path
