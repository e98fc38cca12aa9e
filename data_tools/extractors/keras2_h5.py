"""Reads and writes weights in the HDF5 layout of Keras 2 (`model.save` / `save_weights`).

Keras 3 cannot rebuild a Keras 2 model from its file, so the extractors rebuild
the architecture in code and take only the weights from the file, matched by
layer name. The layout: a group per layer (under `model_weights` for a whole
saved model, at the root for `save_weights`) whose attribute `weight_names`
lists its datasets, e.g. `conv2d_1/kernel:0`; the root of that tree lists the
layers in its attribute `layer_names`. Every mismatch names the file, the layer
and the weight, and nothing is assigned unless the whole file fits.
"""

import os
import tempfile

import h5py
import numpy as np

KERAS_VERSION = "2.2.4"  # Recorded in files we write, so Keras 2 tools read them.


class WeightsFileError(ValueError):
  """A weight file does not fit the model (missing layer, wrong shape, ...)."""


def _decode(value):
  return value.decode("utf8") if isinstance(value, bytes) else str(value)


def _string_list_attr(group, name):
  """A list-of-strings attribute; Keras 2 splits long ones into name0, name1, ..."""
  if name in group.attrs:
    return [_decode(v) for v in group.attrs[name]]
  values, chunk = [], 0
  while f"{name}{chunk}" in group.attrs:
    values.extend(_decode(v) for v in group.attrs[f"{name}{chunk}"])
    chunk += 1
  return values


def _weight_key(weight_name):
  """'conv2d_1/kernel:0' -> 'kernel' (the name Keras 3 gives the variable)."""
  return weight_name.rsplit("/", 1)[-1].split(":", 1)[0]


def read_weights(path):
  """Weights of every layer in a Keras 2 HDF5 file.

  Returns (layers, attrs): `layers` maps each layer name that has weights (in
  file order) to {weight key: array}; `attrs` holds the file's root attributes.
  """
  if not os.path.isfile(path):
    raise FileNotFoundError(f"weight file not found: {path}")
  try:
    handle = h5py.File(path, "r")
  except OSError as error:
    raise WeightsFileError(f"{path} is not an HDF5 file: {error}") from error
  with handle:
    attrs = {key: _decode(value) if isinstance(value, (bytes, str)) else value
             for key, value in handle.attrs.items()
             if not key.startswith(("layer_names", "model_config", "training_config"))}
    root = handle["model_weights"] if "model_weights" in handle else handle
    layer_names = _string_list_attr(root, "layer_names") or list(root.keys())
    layers = {}
    for layer_name in layer_names:
      if layer_name not in root:
        raise WeightsFileError(
            f"{path}: layer {layer_name!r} is listed in layer_names but has no group")
      group = root[layer_name]
      weights = {}
      for weight_name in _string_list_attr(group, "weight_names"):
        if weight_name not in group:
          raise WeightsFileError(
              f"{path}: layer {layer_name!r} lists weight {weight_name!r} "
              "but has no such dataset")
        weights[_weight_key(weight_name)] = np.asarray(group[weight_name])
      if weights:
        layers[layer_name] = weights
  return layers, attrs


def load_weights(model, path):
  """Assigns the weights in `path` to the layers of `model` with the same names.

  Strict: every weighted layer of the model must be in the file with the same
  weights and shapes, and the file must hold no weighted layer the model lacks.
  Raises WeightsFileError naming the layer otherwise, before assigning anything.
  Returns the file's root attributes.
  """
  file_layers, attrs = read_weights(path)
  if attrs.get("backend") == "theano":
    raise WeightsFileError(f"{path} was saved with Keras 2's Theano backend, whose "
                           "conv kernels are flipped; re-save it with TensorFlow")
  assignments = []
  model_layer_names = set()
  for layer in model.layers:
    if not layer.weights:
      continue
    model_layer_names.add(layer.name)
    if layer.name not in file_layers:
      raise WeightsFileError(
          f"{path}: layer {layer.name!r} ({type(layer).__name__}) is missing from "
          f"the file; it has {len(file_layers)} layers with weights, "
          f"e.g. {list(file_layers)[:4]}")
    file_weights = file_layers[layer.name]
    expected_keys = [variable.name for variable in layer.weights]
    if sorted(expected_keys) != sorted(file_weights):
      raise WeightsFileError(
          f"{path}: layer {layer.name!r} has weights {sorted(file_weights)} in the "
          f"file but the model expects {sorted(expected_keys)}")
    for variable in layer.weights:
      value = file_weights[variable.name]
      if tuple(value.shape) != tuple(variable.shape):
        raise WeightsFileError(
            f"{path}: layer {layer.name!r} weight {variable.name!r} has shape "
            f"{tuple(value.shape)} in the file but the model expects "
            f"{tuple(variable.shape)}")
      assignments.append((variable, value))
  extra = [name for name in file_layers if name not in model_layer_names]
  if extra:
    raise WeightsFileError(
        f"{path}: the file has weighted layers the model does not: {extra}; "
        "is it the right file?")
  for variable, value in assignments:
    variable.assign(value.astype(variable.dtype))
  return attrs


def write_weights(path, layers, attrs=None):
  """Writes `layers` in the Keras 2 `save_weights` layout, atomically.

  layers: sequence of (layer_name, [(weight_key, array), ...]) in model order.
  attrs: extra root attributes (strings or numbers), e.g. provenance.
  """
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=".tmp-",
                                  suffix=os.path.basename(path))
  os.close(fd)
  try:
    with h5py.File(tmp_path, "w") as handle:
      handle.attrs["keras_version"] = KERAS_VERSION.encode("utf8")
      handle.attrs["backend"] = b"tensorflow"
      for key, value in (attrs or {}).items():
        handle.attrs[key] = value.encode("utf8") if isinstance(value, str) else value
      handle.attrs["layer_names"] = np.array(
          [name.encode("utf8") for name, _ in layers])
      for layer_name, weights in layers:
        group = handle.create_group(layer_name)
        names = [f"{layer_name}/{key}:0" for key, _ in weights]
        group.attrs["weight_names"] = np.array([n.encode("utf8") for n in names])
        for name, (_, value) in zip(names, weights):
          group.create_dataset(name, data=np.asarray(value, np.float32))
    os.replace(tmp_path, path)
  except BaseException:
    if os.path.exists(tmp_path):
      os.remove(tmp_path)
    raise
