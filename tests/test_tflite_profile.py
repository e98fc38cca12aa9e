"""The TFLite profile finds each distinct layer call and prints per-piece rows."""

import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

import model_testlib
from tfcolor.benchmarks import tflite_profile
from tfcolor.models import factory

ROOT = pathlib.Path(__file__).resolve().parent.parent
TINY_FLAGS = ["--stem_filters=8", "--down_filters=8,16,16,32", "--num_mid_blocks=2",
              "--csa_hint_filters=8", "--csa_attention_filters=8", "--up_filters=16,16,8,8"]


def test_record_pieces_merges_identical_calls():
  generator = factory.build_generator(model_testlib.TINY_MODEL)
  pieces = tflite_profile.record_pieces(
      generator, model_testlib.random_generator_inputs(1, 32, 32))
  by_name = {piece.names[0]: piece for piece in pieces}
  csa = by_name["csa_block1"]
  assert csa.names == ["csa_block1", "csa_block2"] and csa.calls == 2
  assert csa.top_level and not csa.leaf
  # Both residual convs of both blocks: the same config and input shape.
  residual = by_name["residual_conv1"]
  assert residual.calls == 4 and residual.leaf and not residual.top_level
  assert [tuple(t.shape) for t in residual.tensors()] == [(1, 2, 2, 32)]
  # The top-level pieces are the generator's own layers, each call counted once.
  top_calls = sum(piece.calls for piece in pieces if piece.top_level)
  assert top_calls == len([layer for layer in generator.layers
                           if not isinstance(layer, keras.layers.InputLayer)])
  assert "stem_norm" in by_name and by_name["up1_skip"].leaf
  # A piece's function reproduces the layer's output.
  outputs = residual.function()(*residual.tensors())
  np.testing.assert_allclose(outputs[0], residual.layer(*residual.args), atol=1e-6)


def test_format_table_sorts_by_tflite_time_with_ratios():
  layer = object()
  slow = tflite_profile.Piece(["slow"], layer, (), {}, True, calls=2,
                              seconds={"tf": 0.1, "none": 0.3})
  fast = tflite_profile.Piece(["fast"], layer, (), {}, True,
                              seconds={"tf": 0.2, "none": 0.1})
  lines = tflite_profile.format_table("title", [fast, slow], ("none",), top=0).splitlines()
  assert lines[0] == "title"
  assert lines[2].split() == ["slow", "2", "200.0", "600.0", "3.00"]
  assert lines[3].split() == ["fast", "1", "200.0", "100.0", "0.50"]
  assert lines[4].split()[-3:] == ["400.0", "700.0", "1.75"]  # the sum row


@pytest.mark.large
def test_the_cli_prints_per_layer_rows_on_a_tiny_model(tmp_path):
  json_out = tmp_path / "profile.json"
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
  env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
  result = subprocess.run(
      [sys.executable, "-m", "tfcolor.benchmarks.tflite_profile", "--size=32",
       "--repeats=1", "--modes=none,int8", "--pieces=up1,residual", "--top=0",
       f"--json_out={json_out}", *TINY_FLAGS],
      cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  lines = result.stdout.splitlines()
  for title in ("whole generator", "blocks (", "layers ("):
    assert any(line.startswith(title) for line in lines), result.stdout
  rows = {line.split()[0]: line.split() for line in lines
          if line.startswith(("generator ", "up1_", "residual_conv1"))}
  assert {"generator", "up1_transpose", "up1_conv", "residual_conv1"} <= set(rows)
  # name [+N], calls, TF ms, then ms and ratio per mode.
  assert rows["residual_conv1"][1:3] == ["+1", "4"] and len(rows["residual_conv1"]) == 8
  figures = json.loads(json_out.read_text())
  assert set(figures["whole_seconds"]) == {"tf", "none", "int8"}
  for piece in figures["pieces"]:
    assert all(seconds > 0 for seconds in piece["seconds"].values()), piece
