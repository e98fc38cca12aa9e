"""Synthesized sample illustrations: deterministic, colourful, cel-style."""

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from data_tools import build_tfrecords, images, synthesize


def _read(path):
  return cv2.imread(path, cv2.IMREAD_UNCHANGED)[..., ::-1]


def test_same_seed_same_files_other_seed_other_images(tmp_path):
  first = synthesize.synthesize_dataset(str(tmp_path / "a"), 3, 64, seed=7)
  again = synthesize.synthesize_dataset(str(tmp_path / "b"), 3, 64, seed=7)
  other = synthesize.synthesize_dataset(str(tmp_path / "c"), 3, 64, seed=8)
  assert [os.path.basename(p) for p in first] == ["00000.png", "00001.png", "00002.png"]
  for a, b, c in zip(first, again, other):
    with open(a, "rb") as fa, open(b, "rb") as fb:
      assert fa.read() == fb.read()
    assert not np.array_equal(_read(a), _read(c))
  assert not np.array_equal(_read(first[0]), _read(first[1]))


def test_image_depends_only_on_seed_and_index():
  small = synthesize.render_illustration(synthesize.image_rng(3, 5), 48)
  again = synthesize.render_illustration(synthesize.image_rng(3, 5), 48)
  np.testing.assert_array_equal(small, again)


@pytest.mark.parametrize("size", [64, 200])
def test_images_are_colourful_cel_illustrations(size):
  for index in range(12):
    image = synthesize.render_illustration(synthesize.image_rng(0, index), size)
    assert image.shape == (size, size, 3) and image.dtype == np.uint8
    # Well above the builder's greyscale filter, so no sample is dropped.
    assert images.colorfulness(image) > 2 * build_tfrecords.BuildConfig().min_colorfulness
    luminance = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    assert (luminance < 70).mean() > 0.01  # Dark outlines.
    # Flat regions (gradients at most in the background): most pixels match
    # their right neighbour.
    step = np.abs(image[:, 1:].astype(int) - image[:, :-1]).max(-1)
    assert (step <= 3).mean() > 0.6
    quantised = image // 32
    colours = np.unique(quantised.reshape(-1, 3), axis=0, return_counts=True)[1]
    assert (colours > 0.01 * size * size).sum() >= 2  # Background and shapes.


def test_bad_arguments_are_rejected(tmp_path):
  with pytest.raises(ValueError, match="num_images"):
    synthesize.synthesize_dataset(str(tmp_path), 0, 64, seed=0)
  with pytest.raises(ValueError, match="size"):
    synthesize.synthesize_dataset(str(tmp_path), 1, 8, seed=0)


@pytest.mark.large
def test_command_line_writes_the_files(tmp_path):
  output_dir = tmp_path / "images"
  subprocess.run(
      [sys.executable, "-m", "data_tools.synthesize", f"--output_dir={output_dir}",
       "--num_images=2", "--size=32", "--seed=1"],
      check=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
      capture_output=True)
  assert sorted(os.listdir(output_dir)) == ["00000.png", "00001.png"]
  expected = synthesize.render_illustration(synthesize.image_rng(1, 1), 32)
  np.testing.assert_array_equal(_read(str(output_dir / "00001.png")), expected)
