"""Shared test set-up: quiet TensorFlow, CPU only, deterministic seeds."""

import dataclasses
import os
from typing import List

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


# ---------------------------------------------------------------------------
# Sample dataset shared by the data, pipeline and trainer tests (session-wide:
# built once per pytest run, by the library functions, not a subprocess).

SAMPLE_NUM_IMAGES = 24
SAMPLE_SIZE = 96


@dataclasses.dataclass(frozen=True)
class SampleDataset:
  """24 synthesized 96-px illustrations and their TFRecords (xdog line art only),
  built by the default runner (Beam, in this process with num_workers=1).

  Splits 0.5/0.25/0.25 with --num_shards=2: train has 2 shards, val and test
  1 each, and every file holds examples.
  """

  images_dir: str
  tfrecord_dir: str
  train_files: List[str]
  val_files: List[str]
  test_files: List[str]
  report: dict

  @property
  def all_files(self):
    return self.train_files + self.val_files + self.test_files


@pytest.fixture(scope="session")
def sample_dataset(tmp_path_factory):
  # pylint: disable=import-outside-toplevel
  from data_tools import build_tfrecords, synthesize

  root = tmp_path_factory.mktemp("sample_dataset")
  images_dir = str(root / "images")
  tfrecord_dir = str(root / "tfrecords")
  synthesize.synthesize_dataset(images_dir, SAMPLE_NUM_IMAGES, SAMPLE_SIZE, seed=0)
  report = build_tfrecords.build_dataset(build_tfrecords.BuildConfig(
      input_dir=images_dir, output_dir=tfrecord_dir, extractors=("xdog",),
      num_shards=2, train_fraction=0.5, val_fraction=0.25, test_fraction=0.25,
      num_workers=1))
  files = {split: sorted(os.path.join(tfrecord_dir, shard)
                         for shard in report["splits"][split]["shards"])
           for split in ("train", "val", "test")}
  assert all(count for split in files
             for count in report["splits"][split]["shards"].values()), report["splits"]
  return SampleDataset(images_dir=images_dir, tfrecord_dir=tfrecord_dir,
                       train_files=files["train"], val_files=files["val"],
                       test_files=files["test"], report=report)


# ---------------------------------------------------------------------------
# Two logical CPU devices, so MirroredStrategy can run two replicas on a
# CPU-only machine (tests/test_distribution.py). Logical devices can only be
# set before TensorFlow initialises its runtime, hence a configure hook. Ops
# still run on /cpu:0 unless a test places them, so other tests are unaffected.

NUM_LOGICAL_CPUS = 2


def pytest_configure(config):
  del config
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  cpus = tf.config.list_physical_devices("CPU")
  try:
    tf.config.set_logical_device_configuration(
        cpus[0], [tf.config.LogicalDeviceConfiguration()] * NUM_LOGICAL_CPUS)
  except RuntimeError:  # Runtime already initialised (e.g. by a plugin).
    pass


# ---------------------------------------------------------------------------
# A real headless Chromium for page tests (the studio's, later on-device
# ones). Under CI=true a missing browser fails the test instead of skipping it.


@pytest.fixture(scope="session")
def chromium():
  # pylint: disable=import-outside-toplevel
  from tfcolor.benchmarks import chromium as chromium_lib
  problem = chromium_lib.missing()
  if problem:
    if os.environ.get("CI", "").lower() == "true":
      pytest.fail(f"CI=true but the browser test cannot run: {problem}")
    pytest.skip(problem)
  from playwright.sync_api import sync_playwright
  with sync_playwright() as playwright:
    browser = chromium_lib.launch(playwright)
    yield browser
    browser.close()
