"""The CSA generator: attention maps, parameter counts, the VGG19 it carries.

What every generator promises (shapes, tracing, input errors, round trips) is
tested for all four in test_generator_contract.py.
"""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfcolor.config import ModelConfig
from tfcolor.models import ColorizationGenerator, build_generator, build_vgg19
from model_testlib import TINY_MODEL as TINY
from model_testlib import conv_params as _conv
from model_testlib import random_generator_inputs as _inputs
from model_testlib import trainable_params as _trainable_params


@pytest.fixture(scope="module")
def vgg():
  return build_vgg19("none")


@pytest.fixture(scope="module")
def generator(vgg):
  return build_generator(TINY, vgg)


def test_attention_maps(generator):
  maps = generator.attention_maps(_inputs(2, 48, 64))
  assert len(maps) == TINY.num_mid_blocks
  for attention in maps:
    assert attention.shape == (2, 3, 4, 1)
    assert float(tf.reduce_min(attention)) >= 0 and float(tf.reduce_max(attention)) <= 1


def _norm(channels):  # instance norm scale + offset
  return 2 * channels


def _expected_generator_params(c, csa=True):
  """DESIGN.md's layer list, counted by hand."""
  stem, downs, ups = c.stem_filters, c.down_filters, c.up_filters
  total = _conv(7, 1 + 3 + 1, stem) + _norm(stem)                # stem on 5 channels
  width = stem
  for down in downs:                                             # E1..E4
    total += _conv(3, width, down) + _norm(down)
    width = down
  block = 2 * (_conv(3, width, width) + _norm(width))            # r
  if csa:
    hint, attention = c.csa_hint_filters, c.csa_attention_filters
    block += _conv(3, 512, hint) + 2 * _conv(3, hint, hint)      # h on VGG's 512 ch
    block += _conv(3, width + hint, attention) + _conv(3, attention, 1)  # a
  total += c.num_mid_blocks * block
  for up, skip in zip(ups, (downs[2], downs[1], downs[0], stem)):
    total += _conv(3, width, up) + _norm(up)                     # transposed conv
    total += _conv(3, up + skip, up) + _norm(up)                 # after the skip concat
    width = up
  return total + _conv(7, width, 3)                              # head


def test_parameter_count_matches_design(generator, vgg):
  assert _trainable_params(generator) == _expected_generator_params(TINY) == 151_717
  resnet = build_generator(dataclasses.replace(TINY, generator="resnet"), vgg)
  assert _trainable_params(resnet) == _expected_generator_params(TINY, csa=False)
  assert generator.count_params() - _trainable_params(generator) == 20_024_384  # VGG19


@pytest.mark.large
def test_default_width_parameter_count_is_pinned(vgg):
  default = build_generator(ModelConfig(vgg_weights="none"), vgg)
  assert _trainable_params(default) == 212_375_499
  assert _expected_generator_params(ModelConfig()) == 212_375_499


@pytest.mark.large
def test_resnet_variant(vgg, tmp_path):
  resnet = build_generator(dataclasses.replace(TINY, generator="resnet"), vgg)
  assert resnet.vgg is vgg
  inputs = _inputs(1, 32, 32)
  assert resnet(inputs).shape == (1, 32, 32, 3)
  with pytest.raises(ValueError, match="no attention maps"):
    resnet.attention_maps(inputs)
  resnet.save(str(tmp_path / "resnet.keras"))
  loaded = keras.models.load_model(str(tmp_path / "resnet.keras"))
  assert loaded.mid_block == "resnet"
  np.testing.assert_allclose(loaded(inputs), resnet(inputs), atol=1e-6)


@pytest.mark.large
def test_saved_file_carries_the_frozen_vgg(generator, tmp_path):
  path = str(tmp_path / "generator.keras")
  generator.save(path)
  loaded = keras.models.load_model(path)
  assert isinstance(loaded, ColorizationGenerator)
  for want, got in zip(generator.vgg.weights, loaded.vgg.weights):
    np.testing.assert_array_equal(want, got)
  assert not loaded.vgg.trainable_weights
  assert _trainable_params(loaded) == _trainable_params(generator)


def test_config_round_trip(generator):
  clone = ColorizationGenerator.from_config(generator.get_config())
  assert clone.get_config() == generator.get_config()
  assert clone.down_filters == TINY.down_filters and clone.mid_block == "csa"


def test_attention_stays_in_the_compute_dtype_under_mixed_bfloat16(vgg):
  keras.mixed_precision.set_global_policy("mixed_bfloat16")
  try:
    mixed = build_generator(TINY, vgg)
  finally:
    keras.mixed_precision.set_global_policy("float32")
  inputs = _inputs(1, 32, 32)
  assert mixed.mid_blocks[0].compute_dtype == "bfloat16"
  assert mixed.attention_maps(inputs)[0].dtype == tf.bfloat16
