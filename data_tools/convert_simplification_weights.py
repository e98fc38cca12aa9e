r"""Converts Sketch Simplification's PyTorch weights to the HDF5 file our extractor loads.

  python -m data_tools.convert_simplification_weights \
      --input=model_gan.pth --output=weights/simplification_gan.h5

The input is the state dict of the authors' `model_gan.py` (or `model_mse.py`
with --variant=mse): keys `<index>.weight` / `<index>.bias` of an
nn.Sequential. The output uses the Keras 2 HDF5 weight layout (a group per
layer of `simplification.LAYERS`, kernels HWIO) and records the grayscale mean
and std of the variant. PyTorch is needed only here (`pip install torch`).

The weights are for non-commercial research only: never ship the output.
"""

import dataclasses
import re

from absl import app, flags
from absl import logging
import numpy as np

from data_tools.extractors import keras2_h5
from data_tools.extractors import simplification
from tfcolor import cli
from tfcolor import flags as flags_lib
from tfcolor.config import field


def load_state_dict(path):
  """A PyTorch state dict file -> {key: float32 numpy array} (torch imported here only)."""
  try:
    import torch  # pylint: disable=g-import-not-at-top
  except ImportError as error:
    raise ImportError("converting needs PyTorch: pip install torch") from error
  try:
    state = torch.load(path, map_location="cpu", weights_only=True)
  except Exception as error:  # Pickles of whole modules are refused here.
    raise ValueError(f"{path}: not a PyTorch state dict of tensors ({error})") from error
  if isinstance(state, dict) and "state_dict" in state and isinstance(
      state["state_dict"], dict):
    state = state["state_dict"]
  if not isinstance(state, dict):
    raise ValueError(f"{path}: expected a state dict, got {type(state).__name__}")
  return {key: value.detach().cpu().float().numpy() for key, value in state.items()
          if hasattr(value, "numpy")}


def _modules_in_order(state_dict):
  """Groups keys by module ('3.weight' -> module '3'), ordered by module index."""
  modules = {}
  for key, value in state_dict.items():
    module, _, param = key.rpartition(".")
    if param not in ("weight", "bias"):
      raise ValueError(f"unexpected state dict key {key!r}: only conv weights and "
                       "biases belong to this model")
    match = re.search(r"(\d+)$", module)
    if match is None:
      raise ValueError(f"state dict key {key!r} does not name an nn.Sequential index")
    modules.setdefault(module, {})[param] = value
  return sorted(modules.items(), key=lambda item: int(re.search(r"(\d+)$", item[0])[1]))


def convert_state_dict(state_dict):
  """{torch key: array} -> [(layer name, [("kernel", HWIO), ("bias", b)])].

  Conv2d weights are (out, in, kh, kw) -> (kh, kw, in, out); ConvTranspose2d
  weights are (in, out, kh, kw) -> (kh, kw, out, in), Keras' transposed layout;
  both are the same axis permutation. Raises ValueError naming the key and the
  layer on any mismatch.
  """
  modules = _modules_in_order(state_dict)
  expected = simplification.layer_shapes()
  if len(modules) != len(expected):
    raise ValueError(f"the state dict has {len(modules)} weighted modules "
                     f"({[m for m, _ in modules]}); the model has {len(expected)}")
  layers = []
  for (module, params), (name, kind, kernel_shape, bias_shape) in zip(modules, expected):
    if set(params) != {"weight", "bias"}:
      raise ValueError(f"module {module!r} (our layer {name}) has {sorted(params)}, "
                       "expected weight and bias")
    kernel = np.transpose(params["weight"], (2, 3, 1, 0))
    if kernel.shape != kernel_shape:
      torch_shape = tuple(params["weight"].shape)
      raise ValueError(
          f"{module}.weight has shape {torch_shape} but layer {name} ({kind}) needs "
          f"{kernel_shape} in Keras layout, i.e. "
          f"{tuple(np.array(kernel_shape)[[3, 2, 0, 1]])} in PyTorch layout")
    if tuple(params["bias"].shape) != bias_shape:
      raise ValueError(f"{module}.bias has shape {tuple(params['bias'].shape)} but "
                       f"layer {name} needs {bias_shape}")
    layers.append((name, [("kernel", np.ascontiguousarray(kernel, np.float32)),
                          ("bias", np.asarray(params["bias"], np.float32))]))
  return layers


def write_converted(layers, output_path, variant=simplification.DEFAULT_VARIANT,
                    source=""):
  """Writes converted layers and the variant's normalisation to `output_path`."""
  if variant not in simplification.NORMALIZATION:
    raise ValueError(f"unknown variant {variant!r}; known: "
                     f"{sorted(simplification.NORMALIZATION)}")
  mean, std = simplification.NORMALIZATION[variant]
  keras2_h5.write_weights(output_path, layers, attrs={
      "immean": mean, "imstd": std, "variant": variant, "source": source,
      "licence": "Sketch Simplification weights: non-commercial research use only",
  })


def convert(input_path, output_path, variant=simplification.DEFAULT_VARIANT):
  """Reads the PyTorch state dict at `input_path`, writes our HDF5 to `output_path`."""
  layers = convert_state_dict(load_state_dict(input_path))
  write_converted(layers, output_path, variant, source=input_path)


@dataclasses.dataclass(frozen=True)
class ConvertSettings:
  """The flags of `python -m data_tools.convert_simplification_weights`."""

  input: str = field("", "PyTorch state dict of the model (model_gan.pth; required).")
  output: str = field("", "Where to write the Keras weights (.h5; required).")
  variant: str = field(simplification.DEFAULT_VARIANT,
                       "Which published model the weights are (sets mean and std).",
                       sorted(simplification.NORMALIZATION))


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  settings = flags_lib.dataclass_from_flags(ConvertSettings)
  flags_lib.require(settings, "input", "output")
  convert(settings.input, settings.output, settings.variant)
  logging.info("wrote %s (variant %s)", settings.output, settings.variant)


if __name__ == "__main__":
  # Flags are defined only when run as a program, so importing this module for
  # its functions (tests, other tools) adds no --input/--output flags.
  flags_lib.define_dataclass_flags(ConvertSettings)
  flags.adopt_module_key_flags(flags_lib)  # Listed by --help.
  cli.run(main)
