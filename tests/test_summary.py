"""`python -m tfcolor.summary`: parameter counts and GFLOPs of a config."""

import dataclasses
import json
import os
import subprocess
import sys

import pytest

TINY_FLAGS = ["--crop_size=32", "--stem_filters=8", "--down_filters=8,16,16,32",
              "--num_mid_blocks=2", "--csa_hint_filters=8", "--csa_attention_filters=8",
              "--up_filters=16,16,8,8", "--discriminator_filters=8,8,8,8",
              "--vgg_weights=imagenet"]  # must not download: counting uses random VGG
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def flagfile(tmp_path):
  path = tmp_path / "tiny.cfg"
  path.write_text("\n".join(TINY_FLAGS) + "\n")
  return str(path)


def _discriminator_params(filters, num_discriminators=3):
  conv = lambda cin, cout: 16 * cin * cout + cout
  widths = (4,) + tuple(filters)
  one = sum(conv(cin, cout) for cin, cout in zip(widths, widths[1:]))
  return num_discriminators * (one + sum(2 * w for w in filters[1:]) + conv(filters[-1], 1))


@pytest.mark.large
def test_cli_json(flagfile):
  env = dict(os.environ, PYTHONPATH=REPO, KERAS_HOME=os.path.dirname(flagfile))
  result = subprocess.run(
      [sys.executable, "-m", "tfcolor.summary", f"--flagfile={flagfile}", "--json"],
      cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
  assert result.returncode == 0, result.stderr[-2000:]
  stats = json.loads(result.stdout.strip().splitlines()[-1])
  assert set(stats) == {"generator_params", "discriminator_params", "vgg_params",
                        "generator_gflops", "crop_size"}
  assert stats["generator_params"] == 151_717
  assert stats["discriminator_params"] == _discriminator_params((8, 8, 8, 8)) == 11_379
  assert stats["vgg_params"] == 20_024_384
  assert stats["crop_size"] == 32
  # The hand count of tests/test_flops.py for this config at 32x32.
  assert stats["generator_gflops"] == pytest.approx(732_930_176 / 1e9)


@pytest.mark.large
def test_table_lists_every_count():
  # The CLI module is not imported: its global flags clash with other CLIs' in one process.
  from tfcolor.models import statistics  # pylint: disable=g-import-not-at-top
  from model_testlib import TINY_MODEL  # pylint: disable=g-import-not-at-top
  model_config = dataclasses.replace(TINY_MODEL, discriminator_filters=(8, 8, 8, 8))
  text = statistics.format_table(statistics.model_statistics(model_config, 32), model_config)
  assert "trainable params: 151,717" in text and "11,379" in text
  assert "20,024,384" in text and "at 32x32" in text
