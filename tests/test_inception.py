"""Tests for the Inception feature extractors and the FID CLI on image folders.

The 2015 graph is not available offline, so `write_frozen_graph` writes a tiny
frozen GraphDef with the same tensor names as classify_image_graph_def.pb: a
batch-1 float input node `ExpandDims` (like the real graph's, fed through
input_map) and a `pool_3` node of shape (B, 1, 1, dim).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from absl.testing import flagsaver
from PIL import Image

from tfcolor.evaluation import fid, inception

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_frozen_graph(path, dim=2048, mean_only=False):
  """Writes input `ExpandDims` -> (conv, relu, spatial mean, 1x1 conv) -> `pool_3`.

  With `mean_only`, pool_3 is the per-channel spatial mean of the input (dim 3).
  """
  graph = tf.Graph()
  with graph.as_default():
    images = tf.compat.v1.placeholder(tf.float32, [1, None, None, 3], name="ExpandDims")
    if mean_only:
      tf.reduce_mean(images, axis=[1, 2], keepdims=True, name="pool_3")
    else:
      rng = np.random.default_rng(0)
      kernel = tf.constant(rng.normal(size=(3, 3, 3, 8)).astype(np.float32) / 100)
      hidden = tf.nn.relu(tf.nn.conv2d(images, kernel, 2, "VALID"))
      hidden = tf.reduce_mean(hidden, axis=[1, 2], keepdims=True)
      projection = tf.constant(rng.normal(size=(1, 1, 8, dim)).astype(np.float32))
      tf.nn.conv2d(hidden, projection, 1, "VALID", name="pool_3")
  with open(path, "wb") as f:
    f.write(graph.as_graph_def().SerializeToString())
  return path


def _write_folder(folder, colors, size=(24, 20)):
  os.makedirs(folder, exist_ok=True)
  for index, color in enumerate(colors):
    Image.new("RGB", size, tuple(color)).save(os.path.join(folder, f"{index}.png"))


def test_graph_extractor_feeds_0_255_images_and_reads_pool3(tmp_path):
  extractor = inception.GraphInception(
      write_frozen_graph(str(tmp_path / "mean.pb"), mean_only=True))
  colors = np.array([[0, 128, 255], [10, 20, 30]], np.uint8)
  images = np.broadcast_to(colors[:, None, None, :], (2, 17, 23, 3)).copy()
  # rtol: the test graph's float32 mean over 299 * 299 pixels rounds.
  np.testing.assert_allclose(extractor(images), colors.astype(np.float32), rtol=2e-3)
  assert extractor.comparable_with_papers


def test_graph_extractor_batches_of_any_size_and_image_size(tmp_path):
  extractor = inception.GraphInception(write_frozen_graph(str(tmp_path / "g.pb")))
  rng = np.random.default_rng(1)
  images = rng.integers(0, 256, (3, 40, 50, 3), dtype=np.uint8)
  features = extractor(images)
  assert features.shape == (3, 2048) and features.dtype == np.float32
  mixed = extractor([images[0], images[1, :30, :20]])
  np.testing.assert_allclose(mixed[0], features[0], rtol=1e-4, atol=1e-5)


def test_graph_extractor_rejects_wrong_graph(tmp_path):
  graph = tf.Graph()
  with graph.as_default():
    tf.compat.v1.placeholder(tf.float32, [None, 4], name="input")
  path = tmp_path / "other.pb"
  path.write_bytes(graph.as_graph_def().SerializeToString())
  with pytest.raises(ValueError, match="ExpandDims"):
    inception.GraphInception(str(path))
  with pytest.raises(ValueError, match="no such file"):
    inception.create_feature_extractor(str(tmp_path / "missing.pb"))


def test_resize_rejects_float_images():
  with pytest.raises(ValueError, match="uint8"):
    inception.resize_to_input(np.zeros((1, 8, 8, 3), np.float32))


@pytest.mark.large
def test_keras_extractor_without_weights_gives_2048_features():
  extractor = inception.KerasInception(weights=None)
  images = np.random.default_rng(2).integers(0, 256, (2, 32, 48, 3), dtype=np.uint8)
  features = extractor(images)
  assert features.shape == (2, 2048) and np.all(np.isfinite(features))
  assert not extractor.comparable_with_papers


def test_cli_save_stats_then_npz_against_folder(tmp_path, capsys, fid_cli):
  graph = write_frozen_graph(str(tmp_path / "mean.pb"), mean_only=True)
  real_colors = [[200, 10, 10], [10, 200, 10], [10, 10, 200], [90, 90, 90]]
  _write_folder(str(tmp_path / "real"), real_colors)
  stats_path = str(tmp_path / "real.npz")
  with flagsaver.flagsaver():
    fid_cli.main(fid_cli.FLAGS(["fid", str(tmp_path / "real"), "--save_stats=" + stats_path,
                                "--fid_inception=" + graph, "--inception_batch_size=3"]))
  saved = fid.load_stats(stats_path)
  assert saved.num == 4
  np.testing.assert_allclose(saved.mu, np.mean(real_colors, 0), rtol=2e-3)
  np.testing.assert_allclose(saved.sigma, np.cov(np.array(real_colors, float), rowvar=False),
                             rtol=5e-3, atol=0.5)
  with flagsaver.flagsaver():
    fid_cli.main(fid_cli.FLAGS(["fid", stats_path, str(tmp_path / "real"), "--json",
                                "--fid_inception=" + graph]))
  report = json.loads(capsys.readouterr().out)
  assert report["num_real"] == 4 and report["num_fake"] == 4
  assert abs(report["fid"]) < 1e-3


@pytest.mark.large
def test_cli_two_folders_json_subprocess(tmp_path):
  graph = write_frozen_graph(str(tmp_path / "mean.pb"), mean_only=True)
  real_colors = [[200, 10, 10], [10, 200, 10], [10, 10, 200]]
  fake_colors = [[100, 50, 10], [10, 100, 50], [50, 10, 100], [60, 60, 60], [0, 0, 0]]
  _write_folder(str(tmp_path / "real"), real_colors)
  _write_folder(str(tmp_path / "fake" / "nested"), fake_colors, size=(31, 17))
  (tmp_path / "fake" / "broken.jpg").write_bytes(b"garbage")
  result = subprocess.run(
      [sys.executable, "-m", "tfcolor.fid", str(tmp_path / "real"), str(tmp_path / "fake"),
       "--fid_inception=" + graph, "--json", "--inception_batch_size=2"],
      cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
  assert result.returncode == 0, result.stderr[-2000:]
  report = json.loads(result.stdout.strip().splitlines()[-1])
  assert report["num_real"] == 3 and report["num_fake"] == 5
  real, fake = np.array(real_colors, float), np.array(fake_colors, float)
  expected = fid.frechet_distance(real.mean(0), np.cov(real, rowvar=False),
                                  fake.mean(0), np.cov(fake, rowvar=False))
  np.testing.assert_allclose(report["fid"], expected, rtol=5e-3)
  assert "broken.jpg" in result.stderr
