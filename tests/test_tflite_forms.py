"""The export-only layer forms compute what the Keras layers compute, and replace the right layers."""

import keras
import numpy as np
import pytest

import model_testlib
from tfcolor.models import factory
from tfcolor.models import tflite_forms
from tfcolor.models.instance_norm import instance_norm
from tfcolor.models.reflection_padding import ReflectionPadding2D


def test_reflection_pad_slices_equal_mirror_pad():
  inputs = np.random.default_rng(0).normal(size=(2, 9, 7, 3)).astype("float32")
  layer = ReflectionPadding2D(3)
  expected = np.asarray(layer(inputs))
  assert expected.shape == (2, 15, 13, 3)
  np.testing.assert_array_equal(
      np.asarray(tflite_forms.reflection_pad_slices(layer, inputs)), expected)


def test_instance_norm_4d_equals_group_normalization():
  rng = np.random.default_rng(1)
  inputs = (rng.normal(size=(2, 8, 6, 5)) * 3 + 2).astype("float32")
  layer = instance_norm()
  layer.build(inputs.shape)
  layer.gamma.assign(rng.normal(size=5).astype("float32"))
  layer.beta.assign(rng.normal(size=5).astype("float32"))
  np.testing.assert_allclose(np.asarray(tflite_forms.instance_norm_4d(layer, inputs)),
                             np.asarray(layer(inputs)), atol=1e-5)


@pytest.mark.parametrize("height, width", [(5, 8), (4, 3)])
def test_transposed_conv_phases_equal_conv2d_transpose(height, width):
  rng = np.random.default_rng(3)
  layer = keras.layers.Conv2DTranspose(6, 3, strides=2, padding="same", activation="relu")
  inputs = rng.normal(size=(2, height, width, 4)).astype("float32")
  layer.build(inputs.shape)
  layer.bias.assign(rng.normal(size=6).astype("float32"))  # not the initial zeros
  expected = np.asarray(layer(inputs))
  assert expected.shape == (2, 2 * height, 2 * width, 6) and (expected == 0).any()
  np.testing.assert_allclose(np.asarray(tflite_forms.transposed_conv_phases(layer, inputs)),
                             expected, atol=1e-5)
  # The export form: the phase kernels cut once, as variables of their own.
  form = tflite_forms._export_form(layer)  # pylint: disable=protected-access
  np.testing.assert_allclose(np.asarray(form(inputs)), expected, atol=1e-5)


@pytest.mark.parametrize("channels, strides", [(600, 1), (1280, 2)])
def test_conv_split_inputs_equal_conv2d(channels, strides):
  rng = np.random.default_rng(4)
  layer = keras.layers.Conv2D(5, 3, strides=strides, padding="same", activation="relu")
  inputs = rng.normal(size=(1, 6, 6, channels)).astype("float32")
  layer.build(inputs.shape)
  layer.bias.assign(rng.normal(size=5).astype("float32"))
  expected = np.asarray(layer(inputs))
  np.testing.assert_allclose(np.asarray(tflite_forms.conv_split_inputs(layer, inputs)),
                             expected, atol=1e-4)
  # The export form: the kernel cut once, as variables of their own.
  form = tflite_forms._export_form(layer)  # pylint: disable=protected-access
  np.testing.assert_allclose(np.asarray(form(inputs)), expected, atol=1e-4)


def test_convs_up_to_512_channels_and_int8_keep_their_call():
  shallow = keras.layers.Conv2D(4, 3)
  shallow.build((1, 8, 8, 512))
  deep = keras.layers.Conv2D(4, 3)
  deep.build((1, 8, 8, 513))
  assert tflite_forms._export_form(shallow) is None  # pylint: disable=protected-access
  assert tflite_forms._export_form(deep, split_deep_convs=False) is None  # pylint: disable=protected-access


def test_other_transposed_convs_keep_their_call():
  for layer in (keras.layers.Conv2DTranspose(2, 3, strides=2, padding="valid"),
                keras.layers.Conv2DTranspose(2, 4, strides=2, padding="same")):
    layer.build((1, 4, 4, 3))
    assert tflite_forms._export_form(layer) is None  # pylint: disable=protected-access


def test_tflite_forms_swap_inside_the_block_only():
  generator = factory.build_generator(model_testlib.TINY_MODEL)
  rng = np.random.default_rng(2)
  for layer in generator._flatten_layers():  # pylint: disable=protected-access
    if isinstance(layer, keras.layers.GroupNormalization):  # not the initial 1 and 0
      layer.gamma.assign(rng.uniform(0.5, 2, layer.gamma.shape))
      layer.beta.assign(rng.normal(size=layer.beta.shape))
  inputs = model_testlib.random_generator_inputs(1, 32, 32, seed=2)
  expected = np.asarray(generator(inputs))
  with tflite_forms.tflite_forms(generator) as swapped:
    # 1 stem + 4 down + 2 per mid block + 8 up norms, 2 pads, 4 transposed convs.
    assert swapped == 1 + 4 + 2 * generator.num_mid_blocks + 8 + 2 + 4
    assert "call" in vars(generator.stem_norm) and "call" in vars(generator.head_pad)
    assert "call" in vars(generator.up_transposes[0])
    np.testing.assert_allclose(np.asarray(generator(inputs)), expected, atol=1e-5)
  assert "call" not in vars(generator.stem_norm) and "call" not in vars(generator.head_pad)
  np.testing.assert_array_equal(np.asarray(generator(inputs)), expected)


def test_reflection_pad_slices_need_static_sizes():
  layer = ReflectionPadding2D(3, name="pad")
  with pytest.raises(ValueError, match="pad: the TFLite form needs a static height"):
    tflite_forms.reflection_pad_slices(layer, keras.KerasTensor((1, None, 8, 2)))
