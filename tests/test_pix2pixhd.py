"""pix2pixHD's global generator (Table 1 baseline): parameter counts.

Shapes, tracing, input errors, round trips, mixed precision and "no VGG19":
test_generator_contract.py.
"""

import pytest

from tfcolor.config import ModelConfig
from tfcolor.models import build_generator
from model_testlib import TINY_GENERATORS
from model_testlib import conv_params as _conv
from model_testlib import trainable_params as _params

TINY = TINY_GENERATORS["pix2pixhd"]


@pytest.fixture(scope="module")
def generator():
  return build_generator(TINY)


def _norm(channels):  # instance norm scale + offset
  return 2 * channels


def _expected_params(c):
  """pix2pixHD's G1 as listed in the brief, counted by hand."""
  total = _conv(7, 1 + 4, c.stem_filters) + _norm(c.stem_filters)
  width = c.stem_filters
  for down in c.down_filters:
    total += _conv(3, width, down) + _norm(down)
    width = down
  total += c.num_mid_blocks * 2 * (_conv(3, width, width) + _norm(width))
  for up in c.up_filters:  # transposed 3x3 convs: same count as a conv
    total += _conv(3, width, up) + _norm(up)
    width = up
  return total + _conv(7, width, 3)


def test_tiny_parameter_count(generator):
  assert _params(generator) == _expected_params(TINY)


@pytest.mark.large
def test_pix2pixhd_width_parameter_count_is_pinned():
  # pix2pixHD's global generator: ngf=64, 4 downsamplings, 9 blocks (Table 1 config).
  config = ModelConfig(generator="pix2pixhd", num_mid_blocks=9)
  assert _expected_params(config) == 182_492_291
  assert _params(build_generator(config)) == 182_492_291
