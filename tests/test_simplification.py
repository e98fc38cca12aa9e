"""Sketch Simplification: the Keras 3 port, its converted weights, the extractor,
and the dataset builder writing all three line art kinds.

The weights here come from a PyTorch-layout state dict of numpy arrays made by
the test (no torch needed); tests/test_convert_simplification_weights.py
checks the layouts against a real torch forward.
"""

import os

import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf

from data_tools import build_tfrecords
from data_tools import convert_simplification_weights as converter
from data_tools import synthesize
from data_tools.extractors import ExtractorUnavailableError, create_extractor
from data_tools.extractors import keras2_h5
from data_tools.extractors import simplification
from data_tools.extractors import sketchkeras
from data_tools.extractors.configs import SimplificationConfig, SketchKerasConfig
from data_tools.extractors.keras2_h5 import WeightsFileError
from tfcolor.data import schema


def _randomize(model, seed):
  rng = np.random.default_rng(seed)
  for layer in model.layers:
    for variable in layer.weights:
      shape = tuple(variable.shape)
      if variable.name == "kernel":  # He init; a stride-2 4x4 upconv uses 2x2 taps.
        fan_in = (shape[3] * 4 if isinstance(layer, keras.layers.Conv2DTranspose)
                  else np.prod(shape[:3]))
        value = rng.normal(0, np.sqrt(2.0 / fan_in), shape)
      else:
        value = rng.normal(0, 0.1, shape)
      variable.assign(value.astype(np.float32))
  return model


def _torch_layout_state_dict(model):
  """The model's weights as the authors' nn.Sequential state dict would hold them.

  Sequential index 2 * i (a ReLU follows every conv); Conv2d (out, in, kh, kw),
  ConvTranspose2d (in, out, kh, kw): both are Keras' kernel transposed (3, 2, 0, 1).
  """
  state = {}
  for index, (name, *_) in enumerate(simplification.LAYERS):
    layer = model.get_layer(name)
    state[f"{2 * index}.weight"] = np.transpose(np.asarray(layer.kernel), (3, 2, 0, 1))
    state[f"{2 * index}.bias"] = np.asarray(layer.bias)
  return state


def _write(path, layers):
  converter.write_converted(layers, str(path), variant="mse")
  return str(path)


@pytest.fixture(scope="module")
def source_model():
  return _randomize(simplification.build_simplification_model(), seed=1)


@pytest.fixture(scope="module")
def converted_layers(source_model):
  return converter.convert_state_dict(_torch_layout_state_dict(source_model))


@pytest.fixture(scope="module")
def weights_path(converted_layers, tmp_path_factory):
  return _write(tmp_path_factory.mktemp("simplification") / "simp.h5",
                converted_layers)


@pytest.fixture(scope="module")
def target_model():
  return simplification.build_simplification_model()


@pytest.fixture(scope="module")
def extractor(weights_path):
  return create_extractor("simplification", SimplificationConfig(
      simplification_weights=weights_path, simplification_batch_size=2))


def _passthrough_extractor(upscale=3.0, upscaler=None, batch_size=1):
  """An extractor whose "net" undoes the input normalisation: line art = gray input.

  Makes the geometry (upscale, pad, crop, resize back) checkable pixel by pixel.
  """
  mean, std = simplification.NORMALIZATION["gan"]
  inputs = keras.Input((None, None, 1))
  model = keras.Model(inputs, keras.layers.Rescaling(std, offset=mean)(inputs))
  return simplification.SimplificationExtractor(
      SimplificationConfig(simplification_upscale=upscale,
                           simplification_batch_size=batch_size),
      upscaler=upscaler, model=model, normalization=(mean, std))


def _illustration(height, width, seed=0):
  rng = np.random.default_rng(seed)
  image = np.full((height, width, 3), 255, np.uint8)
  top, left = height // 4, width // 3
  image[top:3 * top, left:2 * left] = rng.integers(0, 200, 3)
  return image


def test_architecture_matches_authors_model():
  model = simplification.build_simplification_model()
  convs = [l for l in model.layers if l.weights]
  assert [l.name for l in convs] == [name for name, *_ in simplification.LAYERS]
  assert [type(l).__name__ for l in convs].count("Conv2DTranspose") == 3
  assert tuple(model.get_layer("conv01").kernel.shape) == (5, 5, 1, 48)
  assert tuple(model.get_layer("conv11").kernel.shape) == (3, 3, 1024, 1024)
  assert tuple(model.get_layer("upconv21").kernel.shape) == (4, 4, 48, 48)
  assert model.count_params() == 44_387_249
  assert model(np.zeros((1, 24, 40, 1), np.float32)).shape == (1, 24, 40, 1)


@pytest.mark.large
def test_converted_weights_reproduce_source_model(source_model, weights_path,
                                                  target_model):
  mean, std = simplification.load_simplification_weights(target_model, weights_path)
  assert (mean, std) == simplification.NORMALIZATION["mse"]  # Recorded in the file.
  batch = np.random.default_rng(2).normal(size=(2, 32, 48, 1)).astype(np.float32)
  expected = np.asarray(source_model(batch, training=False))
  np.testing.assert_array_equal(target_model(batch, training=False), expected)
  assert np.std(expected) > 1e-3  # The comparison is not vacuous.


def test_file_with_wrong_shape_names_layer(converted_layers, target_model, tmp_path):
  layers = [(name, [(key, np.zeros((3, 3, 512, 1024), np.float32) if
                     (name, key) == ("conv10", "kernel") else value)
                    for key, value in weights]) for name, weights in converted_layers]
  path = _write(tmp_path / "bad.h5", layers)
  with pytest.raises(WeightsFileError, match=r"conv10.*kernel.*\(3, 3, 512, 1024\)"):
    simplification.load_simplification_weights(target_model, path)


def test_file_missing_a_layer_names_it(converted_layers, target_model, tmp_path):
  path = _write(tmp_path / "partial.h5",
                [item for item in converted_layers if item[0] != "upconv18"])
  with pytest.raises(WeightsFileError, match="upconv18"):
    simplification.load_simplification_weights(target_model, path)


def test_state_dict_with_wrong_shape_names_key_and_layer(source_model):
  state = _torch_layout_state_dict(source_model)
  state["28.weight"] = np.zeros((256, 128, 4, 4), np.float32)  # in/out swapped.
  with pytest.raises(ValueError, match=r"28\.weight.*upconv15"):
    converter.convert_state_dict(state)


def test_unavailable_without_weights():
  with pytest.raises(ExtractorUnavailableError, match="--simplification_weights"):
    create_extractor("simplification", SimplificationConfig())


def test_missing_weights_file_names_flag(tmp_path):
  with pytest.raises(FileNotFoundError, match="--simplification_weights=.*none.h5"):
    create_extractor("simplification", SimplificationConfig(
        simplification_weights=str(tmp_path / "none.h5")))


@pytest.mark.large
@pytest.mark.parametrize("size", [(37, 53), (53, 37)])
def test_odd_sizes_give_line_art_of_input_size(extractor, size):
  lineart = extractor.extract(_illustration(*size))
  assert lineart.shape == size
  assert lineart.dtype == np.uint8


@pytest.mark.large
def test_batch_matches_one_by_one_and_is_deterministic(extractor):
  images = [_illustration(24, 32, seed=s) for s in range(3)] + [_illustration(19, 27)]
  batch = extractor.extract_batch(images)
  np.testing.assert_array_equal(np.concatenate([b.ravel() for b in batch]),
                                np.concatenate([b.ravel() for b in
                                                extractor.extract_batch(images)]))
  for image, lineart in zip(images, batch):
    np.testing.assert_array_equal(lineart, extractor.extract(image))


def test_white_paper_stays_white_and_lines_stay_in_place():
  extractor = _passthrough_extractor()
  blank = np.full((29, 43, 3), 255, np.uint8)
  np.testing.assert_array_equal(extractor.extract(blank), 255)
  image = _illustration(29, 43)
  lineart = extractor.extract(image)
  gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(int)
  # Bicubic up and area down soften the square's border ([7:21, 14:28]) over
  # two pixels; anywhere else the line art is the input, so nothing moved.
  rows, cols = np.mgrid[:29, :43]
  near_border = ((rows >= 5) & (rows <= 22) & (cols >= 12) & (cols <= 29)
                 & ~((rows >= 9) & (rows <= 18) & (cols >= 16) & (cols <= 25)))
  assert np.abs(lineart.astype(int) - gray)[~near_border].max() <= 1
  np.testing.assert_array_equal(lineart[:5], 255)


def test_upscaler_hook_gets_the_colour_image_and_scale():
  calls = []

  def nearest(image, scale):
    calls.append((image.shape, scale))
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)

  extractor = _passthrough_extractor(upscale=3.0, upscaler=nearest)
  image = np.random.default_rng(4).integers(0, 256, (13, 22, 3), dtype=np.uint8)
  lineart = extractor.extract(image)
  assert calls == [((13, 22, 3), 3.0)]
  # Nearest 3x then area 3x down returns every pixel exactly.
  np.testing.assert_array_equal(lineart, cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))


def test_upscaler_must_return_rgb_uint8():
  extractor = _passthrough_extractor(upscaler=lambda image, scale: image[..., 0])
  with pytest.raises(ValueError, match="upscaler"):
    extractor.extract(np.zeros((8, 8, 3), np.uint8))


def test_settings_record_weights_and_upscale(extractor, weights_path):
  settings = extractor.settings()
  assert settings["weights"] == weights_path and len(settings["weights_sha256"]) == 64
  assert settings["upscale"] == 3.0 and settings["upscaler"] == "bicubic_upscaler"
  assert (settings["mean"], settings["std"]) == simplification.NORMALIZATION["mse"]


def test_written_file_is_keras2_layout(weights_path):
  layers, attrs = keras2_h5.read_weights(weights_path)
  assert list(layers) == [name for name, *_ in simplification.LAYERS]
  assert attrs["variant"] == "mse" and "non-commercial" in attrs["licence"]


@pytest.mark.large
def test_builder_writes_all_three_kinds(weights_path, tmp_path):
  """The dataset builder with xdog, sketchkeras and simplification on sample data."""
  sketchkeras_model = sketchkeras.build_sketchkeras_model()  # Keras' random init.
  sketchkeras_path = str(tmp_path / "mod.h5")
  keras2_h5.write_weights(sketchkeras_path, [
      (layer.name, [(v.name, np.asarray(v)) for v in layer.weights])
      for layer in sketchkeras_model.layers if layer.weights])
  images_dir, output_dir = str(tmp_path / "images"), str(tmp_path / "records")
  synthesize.synthesize_dataset(images_dir, 3, 64, seed=0)
  kinds = ("xdog", "sketchkeras", "simplification")
  report = build_tfrecords.build_dataset(
      build_tfrecords.BuildConfig(input_dir=images_dir, output_dir=output_dir,
                                  extractors=kinds, num_shards=1, num_workers=1),
      {"sketchkeras": SketchKerasConfig(sketchkeras_weights=sketchkeras_path,
                                        sketchkeras_long_side=64),
       "simplification": SimplificationConfig(simplification_weights=weights_path)})

  assert report["num_examples"] == 3 and not report["skipped"]
  files = [os.path.join(output_dir, name) for name in os.listdir(output_dir)
           if name.endswith(".tfrecord")]
  examples = [tf.train.Example.FromString(record.numpy())
              for record in tf.data.TFRecordDataset(files)]
  assert len(examples) == 3
  for example in examples:
    features = example.features.feature
    image = tf.io.decode_image(features[schema.IMAGE].bytes_list.value[0])
    for kind in kinds:
      lineart = tf.io.decode_png(
          features[schema.lineart_feature(kind)].bytes_list.value[0])
      assert lineart.shape == (*image.shape[:2], 1), kind
  for kind in ("sketchkeras", "simplification"):
    assert report["extractors"][kind]["settings"]["weights_sha256"]
