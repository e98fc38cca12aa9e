"""Dataset builder: schema round trip, skipped files, resuming, splits, flags."""

import dataclasses
import io
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tensorflow as tf
from absl import flags
from PIL import Image

from data_tools import beam_build, build_tfrecords, image_steps, images, shards, synthesize
from data_tools.extractors import ExtractorUnavailableError, LineArtExtractor, configs
from data_tools.extractors.xdog import XDoGExtractor
from tfcolor.data import schema

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _sample_config(input_dir, output_dir, **overrides):
  """The settings the `sample_dataset` fixture uses, with overrides."""
  settings = dict(input_dir=str(input_dir), output_dir=str(output_dir),
                  extractors=("xdog",), num_shards=2, train_fraction=0.5,
                  val_fraction=0.25, test_fraction=0.25, num_workers=1)
  settings.update(overrides)
  return build_tfrecords.BuildConfig(**settings)


def _read_records(path, kinds=("xdog",)):
  """Every example of a TFRecord file, parsed with the schema names."""
  spec = {schema.KEY: tf.io.FixedLenFeature([], tf.string),
          schema.IMAGE: tf.io.FixedLenFeature([], tf.string)}
  spec.update({schema.lineart_feature(kind): tf.io.FixedLenFeature([], tf.string)
               for kind in kinds})
  records = []
  for serialized in tf.data.TFRecordDataset(path):
    example = tf.io.parse_single_example(serialized, spec)
    record = {"key": example[schema.KEY].numpy().decode("utf-8"),
              "image": tf.io.decode_image(example[schema.IMAGE], channels=3).numpy()}
    for kind in kinds:
      record[kind] = tf.io.decode_png(example[schema.lineart_feature(kind)]).numpy()
    records.append(record)
  return records


def _keys_by_split(files):
  return {record["key"]: os.path.basename(path).split("-")[0]
          for path in files for record in _read_records(path)}


def _read_rgb(path):
  return np.asarray(Image.open(path).convert("RGB"))


def _write(path, image, **save_args):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  Image.fromarray(image).save(path, **save_args)


def _illustration(index, height=72, width=None):
  image = synthesize.render_illustration(synthesize.image_rng(5, index),
                                         max(height, width or height))
  return np.ascontiguousarray(image[:height, :width or height])


def test_round_trip_through_the_schema(sample_dataset):
  seen = set()
  xdog = XDoGExtractor()
  for path in sample_dataset.all_files:
    records = _read_records(path)
    shard = os.path.basename(path)
    split = shard.split("-")[0]
    assert len(records) == sample_dataset.report["splits"][split]["shards"][shard] > 0
    for record in records:
      source = _read_rgb(os.path.join(sample_dataset.images_dir, record["key"]))
      np.testing.assert_array_equal(record["image"], source)  # PNG is lossless.
      assert record["xdog"].shape == source.shape[:2] + (1,)
      np.testing.assert_array_equal(record["xdog"][..., 0], xdog.extract(source))
      seen.add(record["key"])
  assert seen == set(os.listdir(sample_dataset.images_dir))
  assert sample_dataset.report["num_examples"] == len(seen) == 24
  assert sample_dataset.report["extractors"]["xdog"]["settings"]["sigma"] == (
      configs.XDoGConfig().xdog_sigma)


@pytest.fixture(scope="module")
def pool_dataset(sample_dataset, tmp_path_factory):
  """The sample images built by the process pool (--runner=local), one process."""
  out = tmp_path_factory.mktemp("pool_dataset")
  report = build_tfrecords.build_dataset(_sample_config(
      sample_dataset.images_dir, out, runner="local"))
  return str(out), report


def _features_by_split(directory, report):
  """{split: {key: {feature name: bytes}}} of every record of a build."""
  found = {}
  for split, entry in report["splits"].items():
    for shard in entry["shards"]:
      for serialized in tf.data.TFRecordDataset(os.path.join(directory, shard)):
        example = tf.train.Example.FromString(serialized.numpy())
        features = {name: feature.bytes_list.value[0]
                    for name, feature in example.features.feature.items()}
        found.setdefault(split, {})[features[schema.KEY].decode()] = features
  return found


def test_beam_writes_the_records_of_the_pool(sample_dataset, pool_dataset):
  # The fixture's build runs Beam (the default runner); compare key by key.
  pool_dir, pool_report = pool_dataset
  assert sample_dataset.report["this_run"]["runner"] != "local"
  assert pool_report["this_run"]["runner"] == "local"
  beam_records = _features_by_split(sample_dataset.tfrecord_dir, sample_dataset.report)
  pool_records = _features_by_split(pool_dir, pool_report)
  assert sorted(beam_records) == ["test", "train", "val"]
  for split, records in pool_records.items():
    assert beam_records[split] == records, split
  assert sum(len(r) for r in beam_records.values()) == 24
  for split in ("train", "val", "test"):
    assert sample_dataset.report["splits"][split]["examples"] == len(beam_records[split])
    assert (sorted(sample_dataset.report["splits"][split]["shards"])
            == sorted(pool_report["splits"][split]["shards"]))


def _shard_bytes(directory, report):
  return {shard: open(os.path.join(directory, shard), "rb").read()
          for split in report["splits"].values() for shard in split["shards"]}


def test_beam_and_the_pool_write_identical_shards(sample_dataset, pool_dataset):
  # One rule (shards.shard_for, records in key order) for both runners.
  pool_dir, pool_report = pool_dataset
  assert _shard_bytes(pool_dir, pool_report) == _shard_bytes(
      sample_dataset.tfrecord_dir, sample_dataset.report)


def test_a_failed_shard_write_leaves_no_file_under_its_final_name(tmp_path, monkeypatch):
  out, temp = tmp_path / "out", tmp_path / "out" / "beam-temp-run"
  os.makedirs(out)
  (out / "train-00001-of-00002.tfrecord").write_bytes(b"the earlier build")
  write = beam_build.WriteShard(str(out), str(temp))
  entries = [("b.png", b"record b"), None, ("a.png", b"record a")]
  assert list(write.process(("train-00000-of-00002.tfrecord", entries))) == [
      ("train-00000-of-00002.tfrecord", 2)]
  assert [bytes(r.numpy()) for r in tf.data.TFRecordDataset(
      str(out / "train-00000-of-00002.tfrecord"))] == [b"record a", b"record b"]

  real_write_record = beam_build.tfrecord_files.write_record
  def fail_on_the_second(f, record):
    if record == b"record b":
      raise OSError("disk full")
    real_write_record(f, record)
  monkeypatch.setattr(beam_build.tfrecord_files, "write_record", fail_on_the_second)
  for shard in ("train-00001-of-00002.tfrecord", "val-00000-of-00001.tfrecord"):
    with pytest.raises(OSError, match="disk full"):
      list(write.process((shard, entries)))
  assert (out / "train-00001-of-00002.tfrecord").read_bytes() == b"the earlier build"
  assert not (out / "val-00000-of-00001.tfrecord").exists()
  assert os.listdir(temp) == []  # The half-written temporaries are gone too.


def test_serialized_records_are_tensorflow_examples():
  serialized = image_steps.serialize_record("sub/ü.png", b"\x89PNG" + bytes(300),
                                            {"xdog": b"line", "sketchkeras": b""})
  expected = tf.train.Example(features=tf.train.Features(feature={
      name: tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
      for name, value in {"key": "sub/ü.png".encode(), "image": b"\x89PNG" + bytes(300),
                          "lineart/xdog": b"line", "lineart/sketchkeras": b""}.items()}))
  assert tf.train.Example.FromString(serialized) == expected


def test_worker_processes_write_the_same_bytes(sample_dataset, pool_dataset, tmp_path):
  pool_dir, pool_report = pool_dataset
  report = build_tfrecords.build_dataset(_sample_config(
      sample_dataset.images_dir, tmp_path, num_workers=2, runner="local"))
  assert report["this_run"]["images_processed"] == 24
  for split in pool_report["splits"].values():
    for shard in split["shards"]:
      assert (tmp_path / shard).read_bytes() == open(os.path.join(pool_dir, shard),
                                                     "rb").read()


@pytest.mark.large
def test_two_beam_worker_processes_write_identical_shards(sample_dataset, tmp_path):
  # The fixture built in one process; here two worker processes finish records
  # in another order, yet every shard is the same, byte for byte (records
  # keyed by a hash of their key and sorted by key within a shard).
  report = build_tfrecords.build_dataset(_sample_config(
      sample_dataset.images_dir, tmp_path, num_workers=2))
  assert report["this_run"]["images_processed"] == 24
  two = _shard_bytes(str(tmp_path), report)
  one = _shard_bytes(sample_dataset.tfrecord_dir, sample_dataset.report)
  assert sorted(two) == sorted(one) and len(one) == 4
  for shard, data in one.items():
    assert two[shard] == data, shard
  keys = [r["key"] for r in _read_records(str(tmp_path / "train-00000-of-00002.tfrecord"))]
  assert keys == sorted(keys) and len(keys) > 1


def test_an_unknown_runner_fails_with_beams_error(tmp_path):
  source = tmp_path / "in"
  _write(str(source / "a.png"), _illustration(0))
  with pytest.raises(ValueError, match="Unexpected pipeline runner: NoSuchRunner"):
    build_tfrecords.build_dataset(_sample_config(source, tmp_path / "out",
                                                 runner="NoSuchRunner"))
  with pytest.raises(ValueError, match=r"unknown options \['--no_such_option'\]"):
    build_tfrecords.build_dataset(_sample_config(source, tmp_path / "out"),
                                  pipeline_args=["--no_such_option=3"])
  assert not (tmp_path / "out").exists()


@pytest.mark.large
@pytest.mark.parametrize("args, message", [
    (["--runner=NoSuchRunner"], "Unexpected pipeline runner: NoSuchRunner"),
    (["--no_such_option=3"], "unknown options ['--no_such_option']"),
    (["--runner=local", "--project=p"], "--runner=local takes no Beam options"),
    (["--output_dir=nosuchscheme://bucket/out"], "--output_dir=nosuchscheme://bucket/out"),
])
def test_the_cli_shows_bad_beam_options_as_one_line(tmp_path, args, message):
  source = tmp_path / "in"
  _write(str(source / "a.png"), _illustration(0))
  done = subprocess.run(
      [sys.executable, "-m", "data_tools.build_tfrecords", f"--input_dir={source}",
       f"--output_dir={tmp_path / 'out'}", *args],
      cwd=_REPO, capture_output=True, text=True, check=False)
  assert done.returncode != 0
  assert message in done.stderr and "Traceback" not in done.stderr, done.stderr
  assert not (tmp_path / "out").exists()


@pytest.mark.large
def test_a_beam_rebuild_replaces_the_shards_it_supersedes(sample_dataset, tmp_path):
  out = tmp_path / "out"
  first = build_tfrecords.build_dataset(_sample_config(sample_dataset.images_dir, out))
  (out / "mine.tfrecord").write_bytes(b"")  # Not the builder's: kept.
  os.makedirs(out / "beam-temp-train-0123abcd")  # Staging left by a killed run.
  (out / "beam-temp-train-0123abcd" / "part").write_bytes(b"half a shard")
  second = build_tfrecords.build_dataset(_sample_config(
      sample_dataset.images_dir, out, num_shards=1))
  old = sorted(shard for split in first["splits"].values() for shard in split["shards"]
               if shard.startswith("train-"))
  assert old == ["train-00000-of-00002.tfrecord", "train-00001-of-00002.tfrecord"]
  assert second["replaced_shards"] == old
  assert sorted(name for name in os.listdir(out) if name.endswith(".tfrecord")) == [
      "mine.tfrecord", "test-00000-of-00001.tfrecord", "train-00000-of-00001.tfrecord",
      "val-00000-of-00001.tfrecord"]
  assert second["stray_files"] == ["mine.tfrecord"]
  assert second["num_examples"] == first["num_examples"] == 24
  assert not [name for name in os.listdir(out) if name.startswith((".beam", "beam-"))]


@pytest.mark.parametrize("runner", ["", "local"])
def test_bad_files_are_skipped_with_their_reason(tmp_path, runner):
  source = tmp_path / "in"
  _write(str(source / "a.png"), _illustration(0))
  _write(str(source / "sub" / "dir" / "B.JPG"), _illustration(1), quality=95)
  _write(str(source / "c.webp"), _illustration(2), lossless=True)
  _write(str(source / "big.png"), _illustration(3, height=100, width=150))
  rgba = np.dstack([_illustration(4), np.full((72, 72), 255, np.uint8)])
  rgba[:, :36, 3] = 0  # Left half transparent.
  _write(str(source / "rgba.png"), rgba)
  Image.fromarray(_illustration(5)).convert("P").save(source / "palette.png")
  _write(str(source / "gray.png"), cv2.cvtColor(_illustration(6), cv2.COLOR_RGB2GRAY))
  _write(str(source / "tiny.png"), _illustration(7, height=20))
  _write(str(source / "skip_me.png"), _illustration(8))
  _write(str(source / "other" / "excluded_too.png"), _illustration(9))
  (source / "garbage.png").write_bytes(np.random.default_rng(0).bytes(3000))
  buffer = io.BytesIO()
  Image.fromarray(_illustration(10)).save(buffer, format="PNG")
  (source / "truncated.png").write_bytes(buffer.getvalue()[:len(buffer.getvalue()) // 2])
  (source / "empty.jpg").write_bytes(b"")
  (source / "notes.txt").write_text("not an image")
  exclude = tmp_path / "exclude.txt"
  exclude.write_text("# monochrome posts\nskip_me\nother/excluded_too.png\n")

  report = build_tfrecords.build_dataset(build_tfrecords.BuildConfig(
      input_dir=str(source), output_dir=str(tmp_path / "out"), num_shards=1,
      train_fraction=1.0, val_fraction=0.0, test_fraction=0.0, max_side=80,
      exclude_keys=str(exclude), num_workers=1, runner=runner))

  reasons = {entry["key"]: entry["reason"] for entry in report["skipped"]}
  assert {key: reason.split(":")[0] for key, reason in reasons.items()} == {
      "garbage.png": "unreadable", "truncated.png": "unreadable",
      "empty.jpg": "unreadable", "gray.png": "not colourful", "tiny.png": "too small",
      "skip_me.png": "excluded", "other/excluded_too.png": "excluded"}
  assert report["skipped_by_reason"] == {"excluded": 2, "not colourful": 1,
                                         "too small": 1, "unreadable": 3}
  assert report["num_files"] == 13 and report["num_examples"] == 6
  assert list(report["splits"]) == ["train"]
  records = {r["key"]: r for r in _read_records(
      str(tmp_path / "out" / "train-00000-of-00001.tfrecord"))}
  assert set(records) == {"a.png", "sub/dir/B.JPG", "c.webp", "big.png", "rgba.png",
                          "palette.png"}
  np.testing.assert_array_equal(records["c.webp"]["image"], _illustration(2))
  assert records["big.png"]["image"].shape == (80, 120, 3)  # Shorter side 100 -> 80.
  assert records["big.png"]["xdog"].shape == (80, 120, 1)
  np.testing.assert_array_equal(records["rgba.png"]["image"][:, :36], 255)
  np.testing.assert_array_equal(records["rgba.png"]["image"][:, 36:],
                                _illustration(4)[:, 36:])


def _mtimes(directory):
  return {name: os.stat(os.path.join(directory, name)).st_mtime_ns
          for name in os.listdir(directory) if name.endswith(".tfrecord")}


def test_a_killed_run_resumes_without_rewriting_finished_shards(sample_dataset,
                                                                tmp_path):
  source, out = tmp_path / "in", tmp_path / "out"
  shutil.copytree(sample_dataset.images_dir, source)
  config = _sample_config(source, out, runner="local")
  first = build_tfrecords.build_dataset(config)
  contents = {name: (out / name).read_bytes() for name in _mtimes(out)}
  # A kill while writing train-00001 (only its temporary file exists), and
  # one between renaming val-00000 and writing its done marker.
  os.rename(out / "train-00001-of-00002.tfrecord",
            out / ".tmp-train-00001-of-00002.tfrecord")
  os.remove(shards.done_path(str(out), "train-00001-of-00002.tfrecord"))
  os.remove(shards.done_path(str(out), "val-00000-of-00001.tfrecord"))
  before = _mtimes(out)

  second = build_tfrecords.build_dataset(config)

  rewritten = ["train-00001-of-00002.tfrecord", "val-00000-of-00001.tfrecord"]
  assert second["this_run"]["shards_written"] == rewritten
  after = _mtimes(out)
  assert set(after) == set(contents)  # Temporary file gone, nothing else added.
  for name in contents:
    assert (out / name).read_bytes() == contents[name]
    if name not in rewritten:
      assert after[name] == before[name], name
  assert second["splits"] == first["splits"]

  third = build_tfrecords.build_dataset(config)
  assert third["this_run"]["shards_written"] == []
  assert third["this_run"]["images_processed"] == 0
  assert third["splits"] == first["splits"]

  # Other settings: nothing is mistaken for finished.
  changed = build_tfrecords.build_dataset(
      config, {"xdog": configs.XDoGConfig(xdog_sigma=0.8)})
  assert sorted(changed["this_run"]["shards_written"]) == sorted(contents)

  # A new file rewrites only the shard it belongs to.
  _write(str(source / "new.png"), _illustration(11, height=96))
  added = build_tfrecords.build_dataset(
      config, {"xdog": configs.XDoGConfig(xdog_sigma=0.8)})
  split = shards.split_of("new.png", (0.5, 0.25, 0.25))
  count = len(added["splits"][split]["shards"])
  assert added["this_run"]["shards_written"] == [
      shards.shard_name(split, shards.shard_of("new.png", count), count)]
  assert added["num_examples"] == first["num_examples"] + 1


def test_split_depends_on_the_key_alone(sample_dataset, tmp_path):
  source = tmp_path / "in"
  os.makedirs(source)
  for name in sorted(os.listdir(sample_dataset.images_dir))[::3]:
    shutil.copy(os.path.join(sample_dataset.images_dir, name), source / name)
  report = build_tfrecords.build_dataset(_sample_config(source, tmp_path / "out"))
  subset_files = [str(tmp_path / "out" / shard) for split in report["splits"].values()
                  for shard in split["shards"]]
  full = _keys_by_split(sample_dataset.all_files)
  subset = _keys_by_split(subset_files)
  assert len(subset) == 8
  assert all(full[key] == split for key, split in subset.items())

  keys = [f"posts/{i:07d}.jpg" for i in range(20000)]
  counts = {split: 0 for split in shards.SPLITS}
  for key in keys:
    counts[shards.split_of(key, (0.98, 0.01, 0.01))] += 1
  assert 0.975 < counts["train"] / len(keys) < 0.985
  assert 0.007 < counts["val"] / len(keys) < 0.013
  assert 0.007 < counts["test"] / len(keys) < 0.013
  per_shard = np.bincount([shards.shard_of(key, 8) for key in keys], minlength=8)
  assert per_shard.min() > 0.9 * len(keys) / 8


def test_shard_counts_per_split():
  assert shards.shards_per_split(1024, (0.98, 0.01, 0.01)) == {
      "train": 1024, "val": 11, "test": 11}
  assert shards.shards_per_split(2, (0.5, 0.25, 0.25)) == {
      "train": 2, "val": 1, "test": 1}
  assert shards.shards_per_split(4, (0.0, 0.0, 1.0)) == {"test": 4}


class _FakeNeuralExtractor(LineArtExtractor):
  """Stands in for sketchKeras: batched, main process, fails on 90-px-wide images."""

  name = "sketchkeras"

  def __init__(self):
    self.batch_sizes = []

  def extract(self, image):
    if image.shape[1] == 90:
      raise ValueError("cannot handle this one")
    return 255 - cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)

  def extract_batch(self, images_list):
    self.batch_sizes.append(len(images_list))
    return [self.extract(image) for image in images_list]


@pytest.mark.parametrize("runner", ["", "local"])
def test_neural_extractors_run_in_batches(tmp_path, monkeypatch, runner):
  fake = _FakeNeuralExtractor()
  real_create = build_tfrecords.create_extractor
  for module in (build_tfrecords, beam_build):  # One process: Beam's in_memory mode.
    monkeypatch.setattr(module, "create_extractor",
                        lambda kind, config=None: fake if kind == "sketchkeras"
                        else real_create(kind, config))
  source = tmp_path / "in"
  for index in range(7):
    width = 90 if index == 4 else 72  # The fake fails on the 90-px-wide one.
    _write(str(source / f"{index}.png"), _illustration(index, width=width))

  report = build_tfrecords.build_dataset(build_tfrecords.BuildConfig(
      input_dir=str(source), output_dir=str(tmp_path / "out"),
      extractors=("xdog", "sketchkeras"), num_shards=1, train_fraction=1.0,
      val_fraction=0.0, test_fraction=0.0, image_format="jpeg", num_workers=1,
      extract_chunk_size=3, runner=runner))

  if runner == "local":
    assert fake.batch_sizes[:3] == [3, 3, 1]  # Then the failed chunk one by one.
    assert report["extractors"]["sketchkeras"]["runs_in"] == "main process"
    assert report["extractors"]["xdog"]["runs_in"] == "worker processes"
  else:  # Batches of --extract_chunk_size in any order, the failed one retried.
    assert max(fake.batch_sizes) == 3 and fake.batch_sizes.count(3) == 2
    assert report["extractors"]["sketchkeras"]["runs_in"] == "Beam workers, batched"
  assert report["extractors"]["sketchkeras"]["images"] == 7
  assert report["skipped"] == [{"key": "4.png", "reason": (
      "line art failed: sketchkeras: ValueError: cannot handle this one")}]
  records = _read_records(str(tmp_path / "out" / "train-00000-of-00001.tfrecord"),
                          kinds=("xdog", "sketchkeras"))
  assert sorted(r["key"] for r in records) == ["0.png", "1.png", "2.png", "3.png",
                                                "5.png", "6.png"]
  for record in records:
    source_rgb = _read_rgb(str(source / record["key"]))
    assert np.abs(record["image"].astype(int) - source_rgb).mean() < 8  # JPEG.
    np.testing.assert_array_equal(record["sketchkeras"][..., 0],
                                  _FakeNeuralExtractor().extract(source_rgb))


def test_unavailable_or_unknown_extractors_fail_before_any_work(tmp_path, monkeypatch):
  source = tmp_path / "in"
  _write(str(source / "a.png"), _illustration(0))
  out = tmp_path / "out"
  with pytest.raises(ValueError, match="unknown line art kind 'nope'"):
    build_tfrecords.build_dataset(build_tfrecords.BuildConfig(
        input_dir=str(source), output_dir=str(out), extractors=("xdog", "nope")))

  def unavailable(kind, config=None):
    raise ExtractorUnavailableError(f"{kind}: set --sketchkeras_weights")

  monkeypatch.setattr(build_tfrecords, "create_extractor", unavailable)
  with pytest.raises(ExtractorUnavailableError, match="--sketchkeras_weights"):
    build_tfrecords.build_dataset(build_tfrecords.BuildConfig(
        input_dir=str(source), output_dir=str(out), extractors=("sketchkeras",)))
  assert not out.exists()


@pytest.mark.parametrize("overrides, flag", [
    (dict(train_fraction=0.9), "--train_fraction"),
    (dict(min_side=512, max_side=256), "--min_side"),
    (dict(num_shards=0), "--num_shards"),
    (dict(extractors=("xdog", "xdog")), "--extractors"),
    (dict(input_dir="/no/such/folder"), "--input_dir"),
    (dict(exclude_keys="/no/such/file"), "--exclude_keys"),
])
def test_bad_settings_name_the_flag(tmp_path, overrides, flag):
  paths = dict(input_dir=tmp_path, output_dir=tmp_path / "out")
  config = _sample_config(**{**paths, **overrides})
  with pytest.raises(ValueError, match=flag):
    build_tfrecords.build_dataset(config)


def test_flags_make_the_configs():
  flag_values = flags.FlagValues()
  build_tfrecords.define_flags(flag_values)
  flag_values(["prog", "--input_dir=in", "--output_dir=out", "--extractors=xdog",
               "--num_shards=3", "--xdog_sigma=0.8", "--image_format=jpeg",
               "--min_side=768", "--max_side=768"])
  config, extractor_configs = build_tfrecords.configs_from_flags(flag_values)
  assert config == dataclasses.replace(
      build_tfrecords.BuildConfig(), input_dir="in", output_dir="out", num_shards=3,
      image_format="jpeg", min_side=768, max_side=768)
  assert extractor_configs == {"xdog": configs.XDoGConfig(xdog_sigma=0.8)}


def test_image_helpers():
  gray = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=-1)
  assert images.colorfulness(gray) == 0.0
  assert images.colorfulness(_illustration(0)) > 30
  tall = np.zeros((300, 200, 3), np.uint8)
  assert images.resize_shorter_side(tall, max_side=100).shape == (150, 100, 3)
  assert images.resize_shorter_side(tall, min_side=400).shape == (600, 400, 3)
  assert images.resize_shorter_side(tall, 100, 250) is tall


@pytest.mark.large
def test_worker_modules_do_not_import_tensorflow():
  code = ("import sys, data_tools.build_tfrecords, data_tools.extractors.xdog, "
          "data_tools.beam_build; "
          "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; "
          "assert not bad, bad")
  subprocess.run([sys.executable, "-c", code], check=True, cwd=_REPO)


def test_listing_in_the_pipeline_keys_images_and_skips_excluded(tmp_path):
  # gs:// and s3:// inputs are listed by the workers (beam_build.KeyFiles).
  # pylint: disable=import-outside-toplevel
  import apache_beam as beam
  from apache_beam.io import fileio
  from apache_beam.testing.test_pipeline import TestPipeline
  from apache_beam.testing.util import assert_that, equal_to

  for name in ("a.png", "sub/B.JPG", "sub/skip_me.webp", ".hidden/c.png", "notes.txt"):
    os.makedirs(os.path.dirname(tmp_path / name), exist_ok=True)
    (tmp_path / name).write_bytes(b"x")
  with TestPipeline() as pipeline:
    listed = (pipeline
              | fileio.MatchFiles(str(tmp_path) + "/**")
              | beam.ParDo(beam_build.KeyFiles(str(tmp_path), frozenset({"skip_me"})))
              .with_outputs(beam_build.SKIPPED, main="files"))
    assert_that(listed.files, equal_to([("a.png", str(tmp_path / "a.png")),
                                        ("sub/B.JPG", str(tmp_path / "sub/B.JPG"))]),
                label="files")
    assert_that(listed[beam_build.SKIPPED], equal_to([{
        "key": "sub/skip_me.webp", "reason": "excluded: listed in --exclude_keys"}]),
                label="skipped")


def test_a_rebuild_with_other_shards_replaces_only_the_earlier_build(sample_dataset,
                                                                     tmp_path):
  out = tmp_path / "out"
  shutil.copytree(sample_dataset.tfrecord_dir, out)  # the 2-shard build and its report
  (out / "mine-00000-of-00001.tfrecord").write_bytes(b"not from a build")
  (out / "notes.txt").write_text("keep me")
  report = build_tfrecords.build_dataset(
      _sample_config(sample_dataset.images_dir, out, num_shards=3, runner="local"))
  old = sorted(shard for split in sample_dataset.report["splits"].values()
               for shard in split["shards"])
  new = sorted(shard for split in report["splits"].values() for shard in split["shards"])
  assert set(old) - set(new) and set(new) - set(old)
  assert report["replaced_shards"] == sorted(set(old) - set(new))
  left = sorted(name for name in os.listdir(out) if name.endswith(".tfrecord"))
  assert left == sorted(new + ["mine-00000-of-00001.tfrecord"])
  assert report["stray_files"] == ["mine-00000-of-00001.tfrecord"]
  assert (out / "notes.txt").read_text() == "keep me"
  markers = set(os.listdir(out / shards.DONE_DIR))
  assert markers == {name + ".json" for name in new}
  assert report["num_examples"] == sample_dataset.report["num_examples"]


@pytest.mark.parametrize("output, message", [
    ("a_file", "--output_dir=.*a_file is a file, not a folder"),
    ("a_file/shards", "--output_dir=.*a_file is a file, so the folder cannot be created")])
def test_an_unusable_output_dir_fails_before_the_input_is_scanned(tmp_path, monkeypatch,
                                                                  output, message):
  (tmp_path / "a_file").write_text("x")

  def no_scan(input_dir):
    raise AssertionError(f"scanned {input_dir}")

  monkeypatch.setattr(build_tfrecords, "list_images", no_scan)
  with pytest.raises(ValueError, match=message):
    build_tfrecords.build_dataset(_sample_config(tmp_path, tmp_path / output))
