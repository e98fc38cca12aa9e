"""The converter of Sketch Simplification's PyTorch state dict to our Keras weights.

The round trip against a real torch forward proves the kernel transposes, the
transposed-conv layout and the padding; it needs torch and skips without it.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from data_tools import convert_simplification_weights as converter
from data_tools.extractors import keras2_h5
from data_tools.extractors import simplification

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def numpy_state_dict():
  """Random arrays in the authors' nn.Sequential layout (a ReLU after each conv)."""
  rng = np.random.default_rng(0)
  state = {}
  for index, (_, _, kernel_shape, bias_shape) in enumerate(
      simplification.layer_shapes()):
    kh, kw, a, b = kernel_shape  # conv: (in, out); upconv: (out, in).
    torch_shape = (b, a, kh, kw)  # conv: (out, in); upconv: (in, out).
    state[f"{2 * index}.weight"] = rng.standard_normal(torch_shape, np.float32)
    state[f"{2 * index}.bias"] = rng.standard_normal(bias_shape, np.float32)
  return state


def test_modules_are_ordered_by_index_not_by_text(numpy_state_dict):
  state = numpy_state_dict
  shuffled = dict(reversed(list(state.items())))  # "8" before "10" only numerically.
  layers = converter.convert_state_dict(shuffled)
  assert [name for name, _ in layers] == [name for name, *_ in simplification.LAYERS]
  kernels = {name: dict(weights)["kernel"] for name, weights in layers}
  np.testing.assert_array_equal(kernels["conv06"],
                                state["10.weight"].transpose(2, 3, 1, 0))
  np.testing.assert_array_equal(kernels["upconv15"],
                                state["28.weight"].transpose(2, 3, 1, 0))


def test_prefixed_keys_are_accepted(numpy_state_dict):
  state = {f"module.{key}": value for key, value in numpy_state_dict.items()}
  assert len(converter.convert_state_dict(state)) == len(simplification.LAYERS)


def test_foreign_key_is_named(numpy_state_dict):
  state = dict(numpy_state_dict)
  state["4.running_mean"] = np.zeros(128, np.float32)
  with pytest.raises(ValueError, match="4.running_mean"):
    converter.convert_state_dict(state)


def test_wrong_number_of_modules(numpy_state_dict):
  state = dict(numpy_state_dict)
  del state["44.weight"], state["44.bias"]
  with pytest.raises(ValueError, match="22 weighted modules.*23"):
    converter.convert_state_dict(state)


def test_unknown_variant(tmp_path):
  with pytest.raises(ValueError, match="pencil"):
    converter.write_converted([], str(tmp_path / "w.h5"), variant="pencil")
  assert not os.listdir(tmp_path)


def _authors_model(torch):
  """model_gan.py of bobbens/sketch_simplification, layer by layer."""
  nn = torch.nn
  convs = [(1, 48, 5, 2), (48, 128, 3, 1), (128, 128, 3, 1), (128, 128, 3, 2),
           (128, 256, 3, 1), (256, 256, 3, 1), (256, 256, 3, 2), (256, 512, 3, 1),
           (512, 1024, 3, 1), (1024, 1024, 3, 1), (1024, 1024, 3, 1),
           (1024, 1024, 3, 1), (1024, 512, 3, 1), (512, 256, 3, 1), "up256",
           (256, 256, 3, 1), (256, 128, 3, 1), "up128", (128, 128, 3, 1),
           (128, 48, 3, 1), "up48", (48, 24, 3, 1), (24, 1, 3, 1)]
  modules = []
  for spec in convs:
    if isinstance(spec, str):
      channels = int(spec[2:])
      modules.append(nn.ConvTranspose2d(channels, channels, 4, 2, 1, 0))
    else:
      cin, cout, kernel, stride = spec
      modules.append(nn.Conv2d(cin, cout, kernel, stride, kernel // 2))
    modules.append(nn.ReLU())
  modules[-1] = nn.Sigmoid()
  model = nn.Sequential(*modules)
  with torch.no_grad():  # He init keeps the signal alive through 23 layers.
    for module in model:
      if isinstance(module, nn.Conv2d):
        fan_in = module.weight[0].numel()
      elif isinstance(module, nn.ConvTranspose2d):
        fan_in = module.weight.shape[0] * 4  # Each output sees 2x2 of the 4x4 taps.
      else:
        continue
      module.weight.normal_(0, (2.0 / fan_in) ** 0.5)
      module.bias.normal_(0, 0.05)
  return model.eval()


@pytest.fixture(scope="module")
def torch_model_and_file(tmp_path_factory):
  torch = pytest.importorskip("torch")
  torch.manual_seed(0)
  model = _authors_model(torch)
  path = tmp_path_factory.mktemp("torch") / "model_gan.pth"
  torch.save(model.state_dict(), path)
  return torch, model, str(path)


def test_matches_torch_forward(torch_model_and_file, tmp_path):
  torch, torch_model, pth = torch_model_and_file
  output = str(tmp_path / "simplification.h5")
  converter.convert(pth, output)
  keras_model = simplification.build_simplification_model()
  mean_std = simplification.load_simplification_weights(keras_model, output)
  assert mean_std == simplification.NORMALIZATION["gan"]

  image = np.random.default_rng(1).normal(size=(2, 40, 56)).astype(np.float32)
  with torch.no_grad():
    expected = torch_model(torch.from_numpy(image[:, None])).numpy()[:, 0]
  actual = np.asarray(keras_model(image[..., None], training=False))[..., 0]
  assert expected.std() > 0.05  # A live signal, so a wrong layout would show.
  np.testing.assert_allclose(actual, expected, atol=1e-4)


def test_rejects_pickled_module(torch_model_and_file, tmp_path):
  torch, torch_model, _ = torch_model_and_file
  path = tmp_path / "whole_model.pth"
  torch.save(torch_model, path)
  with pytest.raises(ValueError, match="not a PyTorch state dict"):
    converter.load_state_dict(str(path))


@pytest.mark.large
def test_command_line(torch_model_and_file, tmp_path):
  _, _, pth = torch_model_and_file
  output = tmp_path / "out" / "simplification_mse.h5"
  subprocess.run(
      [sys.executable, "-m", "data_tools.convert_simplification_weights",
       f"--input={pth}", f"--output={output}", "--variant=mse"],
      cwd=ROOT, check=True, capture_output=True, timeout=300)
  layers, attrs = keras2_h5.read_weights(str(output))
  assert attrs["variant"] == "mse" and len(layers) == len(simplification.LAYERS)
  assert [p for p in os.listdir(output.parent) if p.startswith(".tmp")] == []
