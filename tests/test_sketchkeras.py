"""sketchKeras: the rebuilt net, the loader of the public Keras 2 mod.h5, the extractor."""

import h5py
import keras
import numpy as np
import pytest

from data_tools.extractors import ExtractorUnavailableError, create_extractor
from data_tools.extractors import sketchkeras
from data_tools.extractors.configs import SketchKerasConfig
from data_tools.extractors.keras2_h5 import WeightsFileError

SMALL = SketchKerasConfig(sketchkeras_long_side=64, sketchkeras_batch_size=2)


def _randomize(model, seed, zero_offsets=False):
  """Random weights everywhere, BN statistics included (fresh ones are 0 and 1).

  zero_offsets: biases, betas and moving means 0, so the net maps 0 to 0.
  """
  rng = np.random.default_rng(seed)
  for layer in model.layers:
    for variable in layer.weights:
      shape = tuple(variable.shape)
      if variable.name == "kernel":
        fan_in = np.prod(shape[:-1])
        value = rng.normal(0, np.sqrt(2.0 / fan_in), shape)
      elif variable.name == "gamma":
        value = rng.uniform(0.5, 1.5, shape)
      elif variable.name == "moving_variance":
        value = rng.uniform(0.5, 2.0, shape)
      else:  # bias, beta, moving_mean.
        value = np.zeros(shape) if zero_offsets else rng.normal(0, 0.1, shape)
      variable.assign(value.astype(np.float32))
  return model


def _write_public_layout(path, model, drop=None, replace=None):
  """Writes `model`'s weights as Keras 2's model.save did in mod.h5, with h5py.

  Layers without weights are listed too, as in a real file. drop: a layer name
  to leave out; replace: {(layer, weight): array} to write instead.
  """
  replace = replace or {}
  with h5py.File(path, "w") as f:
    f.attrs["keras_version"] = b"2.0.8"
    f.attrs["backend"] = b"tensorflow"
    f.attrs["model_config"] = b'{"class_name": "Model", "config": {}}'
    group = f.create_group("model_weights")
    names = [layer.name for layer in model.layers if layer.name != drop]
    group.attrs["layer_names"] = np.array([n.encode() for n in names])
    for layer in model.layers:
      if layer.name == drop:
        continue
      layer_group = group.create_group(layer.name)
      weight_names = [f"{layer.name}/{v.name}:0" for v in layer.weights]
      layer_group.attrs["weight_names"] = np.array([n.encode() for n in weight_names])
      for name, variable in zip(weight_names, layer.weights):
        value = replace.get((layer.name, variable.name), np.asarray(variable))
        layer_group.create_dataset(name, data=value)
  return str(path)


@pytest.fixture(scope="module")
def source_model():
  return _randomize(sketchkeras.build_sketchkeras_model(), seed=1)


@pytest.fixture(scope="module")
def weights_path(source_model, tmp_path_factory):
  path = tmp_path_factory.mktemp("sketchkeras") / "mod.h5"
  return _write_public_layout(path, source_model)


@pytest.fixture(scope="module")
def target_model():
  """A fresh model to load files into (a failed load leaves it untouched)."""
  return sketchkeras.build_sketchkeras_model()


@pytest.fixture(scope="module")
def extractor(weights_path):
  return create_extractor("sketchkeras", SketchKerasConfig(
      sketchkeras_weights=weights_path, sketchkeras_long_side=64,
      sketchkeras_batch_size=2))


def _illustration(height, width, seed=0):
  """Flat colour regions with a dark outline: something with edges to find."""
  rng = np.random.default_rng(seed)
  image = np.empty((height, width, 3), np.uint8)
  image[...] = rng.integers(150, 256, 3)
  top, left = height // 4, width // 4
  image[top:3 * top, left:3 * left] = rng.integers(0, 120, 3)
  image[top, left:3 * left] = 0
  return image


def test_architecture_matches_public_model():
  model = sketchkeras.build_sketchkeras_model()
  convs = [l for l in model.layers if isinstance(l, keras.layers.Conv2D)]
  norms = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
  assert [l.name for l in convs] == [f"conv2d_{i}" for i in range(1, 19)]
  assert [l.name for l in norms] == [f"batch_normalization_{i}" for i in range(1, 18)]
  shapes = {l.name: tuple(l.kernel.shape) for l in convs}
  assert shapes["conv2d_1"] == (3, 3, 1, 32)
  assert shapes["conv2d_8"] == (4, 4, 256, 512)
  assert shapes["conv2d_10"] == (4, 4, 1024, 512)  # After concat(bottom, conv2d_9).
  assert shapes["conv2d_18"] == (3, 3, 64, 1)
  assert model.count_params() == 18_644_385
  assert model(np.zeros((1, 32, 48, 1), np.float32)).shape == (1, 32, 48, 1)


@pytest.mark.large
def test_loaded_weights_reproduce_source_model(source_model, weights_path,
                                              target_model):
  model = target_model
  sketchkeras.load_sketchkeras_weights(model, weights_path)
  batch = np.random.default_rng(2).normal(size=(2, 32, 48, 1)).astype(np.float32)
  expected = source_model(batch, training=False)
  np.testing.assert_array_equal(model(batch, training=False), expected)
  assert np.std(np.asarray(expected)) > 0  # The comparison is not vacuous.


def test_wrong_shape_names_layer(source_model, target_model, tmp_path):
  path = _write_public_layout(tmp_path / "bad.h5", source_model, replace={
      ("conv2d_5", "kernel"): np.zeros((3, 3, 128, 64), np.float32)})
  model = target_model
  before = np.asarray(model.get_layer("conv2d_1").kernel).copy()
  with pytest.raises(WeightsFileError, match=r"conv2d_5.*kernel.*\(3, 3, 128, 64\)"):
    sketchkeras.load_sketchkeras_weights(model, path)
  # Nothing was assigned: the model is not left half-loaded.
  np.testing.assert_array_equal(model.get_layer("conv2d_1").kernel, before)


def test_missing_layer_is_named(source_model, target_model, tmp_path):
  path = _write_public_layout(tmp_path / "partial.h5", source_model,
                              drop="batch_normalization_7")
  with pytest.raises(WeightsFileError, match="batch_normalization_7"):
    sketchkeras.load_sketchkeras_weights(target_model, path)


def test_theano_file_is_refused(target_model, tmp_path):
  path = str(tmp_path / "theano.h5")
  with h5py.File(path, "w") as f:
    f.attrs["backend"] = b"theano"
    f.attrs["layer_names"] = np.array([b"conv2d_1"])
    f.create_group("conv2d_1").attrs["weight_names"] = np.array([], dtype="S1")
  with pytest.raises(WeightsFileError, match="Theano"):
    sketchkeras.load_sketchkeras_weights(target_model, path)


def test_unavailable_without_weights():
  with pytest.raises(ExtractorUnavailableError, match="--sketchkeras_weights"):
    create_extractor("sketchkeras", SketchKerasConfig())


def test_missing_weights_file_names_flag(tmp_path):
  with pytest.raises(FileNotFoundError, match="--sketchkeras_weights=.*nowhere.h5"):
    create_extractor("sketchkeras", SketchKerasConfig(
        sketchkeras_weights=str(tmp_path / "nowhere.h5")))


@pytest.mark.parametrize("long_side", [100, -16])
def test_rejects_long_side_off_the_stride(long_side):
  with pytest.raises(ValueError, match="--sketchkeras_long_side"):
    sketchkeras.SketchKerasExtractor(
        SketchKerasConfig(sketchkeras_long_side=long_side), model=object())


@pytest.mark.parametrize("size", [(333, 517), (517, 333), (31, 47)])
def test_odd_sizes_give_line_art_of_input_size(extractor, size):
  lineart = extractor.extract(_illustration(*size))
  assert lineart.shape == size
  assert lineart.dtype == np.uint8


@pytest.mark.large
def test_native_resolution_pads_to_stride(weights_path):
  native = sketchkeras.SketchKerasExtractor(SketchKerasConfig(
      sketchkeras_weights=weights_path, sketchkeras_long_side=0))
  lineart = native.extract(_illustration(37, 21))
  assert lineart.shape == (37, 21) and lineart.dtype == np.uint8


@pytest.mark.large
def test_batch_matches_one_by_one_and_is_deterministic(extractor):
  images = [_illustration(40, 56, seed=s) for s in range(3)] + [_illustration(33, 29)]
  batch = extractor.extract_batch(images)
  again = extractor.extract_batch(images)
  for image, lineart, repeat in zip(images, batch, again):
    np.testing.assert_array_equal(lineart, repeat)
    np.testing.assert_array_equal(lineart, extractor.extract(image))


@pytest.mark.large
def test_flat_images_stay_white():
  """No edges in, no lines out: nothing in the pipeline invents detail.

  The net is bias-free here so that it maps zero detail to zero response;
  with the public weights the same holds up to their (tiny) response to 0.
  """
  model = _randomize(sketchkeras.build_sketchkeras_model(), seed=3, zero_offsets=True)
  flat = sketchkeras.SketchKerasExtractor(SMALL, model=model)
  for colour in ([255, 255, 255], [200, 40, 90]):
    image = np.empty((45, 67, 3), np.uint8)
    image[...] = colour
    np.testing.assert_array_equal(flat.extract(image), 255)


def test_lines_land_on_the_edges():
  """With a pass-through net the line art is the high-pass itself: a dark square
  on white must give lines along the square's border and paper elsewhere, at
  the right place after resizing, padding, cropping and resizing back."""
  inputs = keras.Input((None, None, 1))
  identity = keras.Model(inputs, keras.layers.Activation("linear")(inputs))
  config = SketchKerasConfig(sketchkeras_long_side=64, sketchkeras_threshold=0.2)
  passthrough = sketchkeras.SketchKerasExtractor(config, model=identity)
  image = np.full((96, 128, 3), 255, np.uint8)
  image[30:60, 50:100] = 0
  lineart = passthrough.extract(image)
  assert lineart.shape == (96, 128)
  rows, cols = np.nonzero(lineart < 128)
  assert rows.size > 0
  # High-pass is positive on the bright side of an edge: lines hug the square.
  distance_out = np.maximum.reduce([30 - rows, rows - 59, 50 - cols, cols - 99])
  assert distance_out.max() <= 10 and distance_out.min() >= -2
  assert np.all(lineart[:15] == 255) and np.all(lineart[:, :35] == 255)


def test_rejects_non_rgb_input(extractor):
  with pytest.raises(ValueError, match="RGB"):
    extractor.extract(np.zeros((16, 16), np.uint8))
  with pytest.raises(ValueError, match="uint8"):
    extractor.extract(np.zeros((16, 16, 3), np.float32))


def test_settings_record_the_weights(extractor, weights_path):
  settings = extractor.settings()
  assert settings["weights"] == weights_path
  assert len(settings["weights_sha256"]) == 64
  assert settings["long_side"] == 64
