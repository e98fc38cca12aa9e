"""Training and evaluation input (tfcolor.data.input_pipeline) on small TFRecords."""

import collections
import io
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfcolor.config import DataConfig
from tfcolor.data import input_pipeline, preview, schema

KIND_VALUES = {"xdog": 0, "sketchkeras": 100, "simplification": 200}


def _encode(array, image_format="png"):
  buffer = io.BytesIO()
  Image.fromarray(array).save(buffer, format=image_format.upper(), quality=95)
  return buffer.getvalue()


def _write_records(path, examples):
  """Writes tf.train.Examples per the schema.

  examples: dicts with "key", "image" (uint8 RGB), optional "image_format" and
  "lineart" ({kind: uint8 gray of the image's size}).
  """
  with tf.io.TFRecordWriter(str(path)) as writer:
    for example in examples:
      feature = {
          schema.KEY: [example["key"].encode()],
          schema.IMAGE: [_encode(example["image"], example.get("image_format", "png"))]}
      for kind, lineart in example["lineart"].items():
        feature[schema.lineart_feature(kind)] = [_encode(lineart)]
      proto = tf.train.Example(features=tf.train.Features(feature={
          name: tf.train.Feature(bytes_list=tf.train.BytesList(value=value))
          for name, value in feature.items()}))
      writer.write(proto.SerializeToString())
  return str(path)


def _aligned_example(key, height, width, rng, image_format="png"):
  """Line art = the red channel; green rises left to right (shows flips)."""
  image = np.empty((height, width, 3), np.uint8)
  if image_format == "png":
    image[..., 0] = rng.integers(0, 256, (height, width))
  else:  # smooth, so JPEG keeps it close
    ys, xs = np.mgrid[:height, :width]
    phase = rng.uniform(0, 2 * np.pi)
    image[..., 0] = np.round(127.5 + 120 * np.sin(xs / 3.0 + phase) * np.cos(ys / 4.0))
  image[..., 1] = np.round(np.linspace(10, 245, width))[None, :]
  image[..., 2] = rng.integers(0, 256)
  return {"key": key, "image": image, "image_format": image_format,
          "lineart": {"xdog": image[..., 0].copy()}}


def _constant_example(key, kinds, size=16, image_value=128):
  image = np.full((size, size, 3), image_value, np.uint8)
  return {"key": key, "image": image,
          "lineart": {kind: np.full((size, size), KIND_VALUES[kind], np.uint8)
                      for kind in kinds}}


def _config(train_data="", eval_data="", **kwargs):
  kwargs.setdefault("crop_size", 16)
  kwargs.setdefault("shuffle_buffer", 32)
  return DataConfig(train_data=train_data, eval_data=eval_data, **kwargs)


def _take(dataset, num_batches):
  return [{name: value.numpy() for name, value in batch.items()}
          for batch in dataset.take(num_batches)]


def _concat(batches, name):
  return np.concatenate([batch[name] for batch in batches])


@pytest.mark.large
def test_sample_dataset_batches_have_documented_shapes_and_ranges(sample_dataset):
  config = _config(",".join(sample_dataset.train_files), crop_size=64)
  batches = _take(input_pipeline.make_train_dataset(config, batch_size=4), 3)
  for batch in batches:
    assert batch["key"].shape == (4,) and batch["key"].dtype == object
    assert batch["image"].shape == (4, 64, 64, 3)
    assert batch["lineart"].shape == (4, 64, 64, 1)
    assert batch["hints"].shape == (4, 64, 64, 4)
    for name in ("image", "lineart", "hints"):
      assert batch[name].dtype == np.float32
      assert batch[name].min() >= -1.0 and batch[name].max() <= 1.0
    mask = batch["hints"][..., 3]
    assert set(np.unique(mask)) <= {0.0, 1.0}
    assert (batch["hints"][..., :3][mask == 0] == 0).all()
  lineart = _concat(batches, "lineart")
  assert lineart.max() == 1.0 and (lineart > 0.9).mean() > 0.5  # white paper = +1
  images = _concat(batches, "image")
  assert images.min() < -0.5 and images.max() > 0.5  # x / 127.5 - 1, not [0, 1]
  assert _concat(batches, "hints")[..., 3].sum() > 0


@pytest.mark.large
def test_crop_and_flip_keep_image_and_lineart_aligned(tmp_path):
  rng = np.random.default_rng(0)
  sizes = [(40, 56), (24, 24), (12, 20), (33, 17), (64, 30)]  # some below the crop
  path = _write_records(tmp_path / "aligned.tfrecord", [
      _aligned_example(f"k{i}", *sizes[i % len(sizes)], rng) for i in range(20)])
  config = _config(path, crop_size=16)
  batches = _take(input_pipeline.make_train_dataset(config, batch_size=8, seed=3), 8)
  image, lineart = _concat(batches, "image"), _concat(batches, "lineart")
  np.testing.assert_array_equal(lineart[..., 0], image[..., 0])
  green_step = np.diff(image[..., 1], axis=2)  # the green ramp gives the direction
  flipped = (green_step <= 0).all(axis=(1, 2))
  unflipped = (green_step >= 0).all(axis=(1, 2))
  assert (flipped | unflipped).all()
  assert 0.2 < flipped.mean() < 0.8
  assert len(np.unique(image[:, 0, 0, 1])) > 5  # crops start at different places


@pytest.mark.large
def test_jpeg_images_are_cropped_at_the_line_art_window(tmp_path):
  rng = np.random.default_rng(1)
  path = _write_records(tmp_path / "jpeg.tfrecord", [
      _aligned_example(f"jpeg-{i}", 48, 40, rng, "jpeg") for i in range(6)])
  config = _config(path, eval_data=path, crop_size=32)
  batches = _take(input_pipeline.make_train_dataset(config, batch_size=6, seed=1), 4)
  image, lineart = _concat(batches, "image"), _concat(batches, "lineart")
  error = np.abs(image[..., 0] - lineart[..., 0]).mean(axis=(1, 2)) * 127.5
  assert error.max() < 4, error  # JPEG noise; one pixel off would be ~30
  eval_batch = _take(input_pipeline.make_eval_dataset(config, batch_size=6), 1)[0]
  error = np.abs(eval_batch["image"][..., 0] - eval_batch["lineart"][..., 0]) * 127.5
  assert error.mean() < 4


@pytest.mark.large
def test_lineart_kinds_follow_renormalised_probabilities(tmp_path):
  groups = {"all": tuple(KIND_VALUES), "noxdog": ("sketchkeras", "simplification"),
            "xdogonly": ("xdog",), "none": ()}
  examples = [_constant_example(f"{group}-{i}", kinds)
              for i in range(8) for group, kinds in groups.items()]
  path = _write_records(tmp_path / "kinds.tfrecord", examples)
  # A quarter of the records has no configured kind: dropped on purpose here.
  config = _config(path, shuffle_buffer=64, max_dropped_fraction=0.5)
  batches = _take(input_pipeline.make_train_dataset(config, batch_size=250, seed=0), 8)
  keys = [key.decode().split("-")[0] for key in _concat(batches, "key")]
  values = np.round((_concat(batches, "lineart")[:, 0, 0, 0] + 1) * 127.5).astype(int)
  by_group = collections.defaultdict(collections.Counter)
  for group, value in zip(keys, values):
    by_group[group][value] += 1
  assert "none" not in by_group  # records without a configured kind are dropped
  assert set(by_group["xdogonly"]) == {0}
  assert 0 not in by_group["noxdog"]

  def check(counter, probs):
    total = sum(counter.values())
    for kind, prob in probs.items():
      sigma = np.sqrt(prob * (1 - prob) / total)
      assert abs(counter[KIND_VALUES[kind]] / total - prob) < 4 * sigma, (counter, probs)

  check(by_group["all"], {"xdog": 0.1, "sketchkeras": 0.5, "simplification": 0.4})
  check(by_group["noxdog"], {"sketchkeras": 0.5 / 0.9, "simplification": 0.4 / 0.9})


@pytest.mark.large
def test_eval_hints_are_fixed_by_key(tmp_path):
  rng = np.random.default_rng(2)
  examples = [_aligned_example(f"e{i}", 24, 24, rng) for i in range(5)]
  examples.append(dict(examples[0], key="e0-copy"))  # same pixels, another key
  path = _write_records(tmp_path / "eval.tfrecord", examples)
  config = _config(eval_data=path)
  first = _take(input_pipeline.make_eval_dataset(config, batch_size=4), 10)
  second = _take(input_pipeline.make_eval_dataset(config, batch_size=2), 10)
  assert [len(batch["key"]) for batch in first] == [4, 2]  # finite, last batch short
  assert list(_concat(first, "key")) == [e["key"].encode() for e in examples]
  for name in ("key", "image", "lineart", "hints"):
    np.testing.assert_array_equal(_concat(first, name), _concat(second, name))
  hints = _concat(first, "hints")
  np.testing.assert_array_equal(_concat(first, "image")[0], _concat(first, "image")[5])
  assert not np.array_equal(hints[0], hints[5])  # seeded by key, not by pixels
  assert len({hints[i].tobytes() for i in range(6)}) == 6
  # A centre crop, no flip: the green ramp still rises.
  assert (np.diff(_concat(first, "image")[..., 1], axis=2) >= 0).all()


def test_eval_full_mode_keeps_size_cut_to_multiple_of_16(tmp_path):
  rng = np.random.default_rng(3)
  path = _write_records(tmp_path / "full.tfrecord", [
      _aligned_example("a", 40, 70, rng), _aligned_example("b", 16, 33, rng)])
  config = _config(eval_data=path, eval_mode="full")
  with pytest.raises(ValueError, match="--eval_mode"):
    input_pipeline.make_eval_dataset(config, batch_size=2)
  batches = _take(input_pipeline.make_eval_dataset(config, batch_size=1), 5)
  assert [b["image"].shape for b in batches] == [(1, 32, 64, 3), (1, 16, 32, 3)]
  assert [b["hints"].shape for b in batches] == [(1, 32, 64, 4), (1, 16, 32, 4)]
  np.testing.assert_array_equal(batches[0]["lineart"][..., 0], batches[0]["image"][..., 0])


@pytest.mark.large
def test_input_context_shards_files_between_pipelines(tmp_path):
  for shard in range(4):
    _write_records(tmp_path / f"shard-{shard}.tfrecord",
                   [_constant_example(f"s{shard}-{i}", ["xdog"]) for i in range(3)])
  config = _config(str(tmp_path / "shard-*.tfrecord"))
  seen = []
  for pipeline in range(2):
    context = tf.distribute.InputContext(num_input_pipelines=2,
                                         input_pipeline_id=pipeline,
                                         num_replicas_in_sync=2)
    batches = _take(input_pipeline.make_train_dataset(config, 4, input_context=context), 6)
    seen.append({key.decode() for key in _concat(batches, "key")})
  assert not seen[0] & seen[1]
  shards = [{key.split("-")[0] for key in keys} for keys in seen]
  assert shards == [{"s0", "s2"}, {"s1", "s3"}]


@pytest.mark.large
def test_fewer_files_than_pipelines_shards_records(tmp_path):
  path = _write_records(tmp_path / "one.tfrecord",  # odd: shard before repeating
                        [_constant_example(f"r{i}", ["xdog"]) for i in range(5)])
  seen = []
  for pipeline in range(2):
    context = tf.distribute.InputContext(2, pipeline, 2)
    batches = _take(input_pipeline.make_train_dataset(_config(path), 3,
                                                      input_context=context), 4)
    seen.append({key.decode() for key in _concat(batches, "key")})
  assert not seen[0] & seen[1] and len(seen[0] | seen[1]) == 5


@pytest.mark.large
def test_deterministic_input_is_reproducible_for_a_seed(tmp_path):
  rng = np.random.default_rng(4)
  path = _write_records(tmp_path / "repro.tfrecord",
                        [_aligned_example(f"k{i}", 24, 28, rng) for i in range(10)])
  config = _config(path, deterministic_train_input=True)

  def run(seed):
    batches = _take(input_pipeline.make_train_dataset(config, 4, seed=seed), 3)
    return {name: _concat(batches, name) for name in ("key", "image", "hints")}

  first, again, other = run(7), run(7), run(8)
  for name in first:
    np.testing.assert_array_equal(first[name], again[name])
  assert not np.array_equal(first["hints"], other["hints"])


def test_bad_inputs_raise_errors_that_name_the_problem(tmp_path):
  missing = str(tmp_path / "nothing-*.tfrecord")
  with pytest.raises(ValueError, match=r"--train_data: pattern .*nothing-\*"):
    input_pipeline.make_train_dataset(_config(missing), 2)
  with pytest.raises(ValueError, match="--eval_data"):
    input_pipeline.make_eval_dataset(_config(eval_data=missing), 2)
  with pytest.raises(ValueError, match="--train_data is empty"):
    input_pipeline.make_train_dataset(_config(""), 2)

  only_xdog = _write_records(tmp_path / "xdog.tfrecord", [_constant_example("x", ["xdog"])])
  with pytest.raises(ValueError, match="--lineart_kinds"):
    input_pipeline.make_train_dataset(
        _config(only_xdog, lineart_kinds=("sketchkeras",), lineart_probs=(1.0,)), 2)

  mismatched = {"key": "bad-size", "image": np.zeros((20, 20, 3), np.uint8),
                "lineart": {"xdog": np.zeros((20, 24), np.uint8)}}
  bad = _write_records(tmp_path / "bad.tfrecord", [mismatched])
  with pytest.raises(tf.errors.InvalidArgumentError, match="bad-size"):
    _take(input_pipeline.make_eval_dataset(_config(eval_data=bad), 1), 1)


@pytest.mark.large
def test_preview_shows_every_kind_and_the_fed_one(tmp_path):
  examples = [_constant_example(f"p{i}", kinds, size=32, image_value=60)
              for i, kinds in enumerate([tuple(KIND_VALUES), ("xdog",), ("simplification",)])]
  path = _write_records(tmp_path / "preview.tfrecord", examples)
  config = _config(path, crop_size=16, shuffle_buffer=1)  # records in file order
  for example in input_pipeline.make_preview_dataset(config).take(6):
    kinds = example["lineart_kinds"].numpy()
    fed = example["lineart"].numpy()[..., 0]
    np.testing.assert_array_equal(fed, kinds[..., int(example["lineart_kind"])])
    for i, value in enumerate(KIND_VALUES.values()):
      if example["lineart_present"][i]:
        assert np.allclose(kinds[..., i], value / 127.5 - 1)
  output = str(tmp_path / "out" / "preview.png")
  grid = preview.write_preview(config, output, num_examples=3)
  assert os.path.exists(output) and grid.dtype == np.uint8
  # 3 rows; ground truth + 3 kinds + fed + hints + hints on line art = 7 columns.
  assert Image.open(output).size == (7 * (16 + 2) + 2, 14 + 3 * (16 + 2) + 2)


def _keys(batches):
  return {key.decode() for key in _concat(batches, "key")}


@pytest.mark.large
def test_empty_files_are_skipped_and_named_in_a_warning(tmp_path, caplog):
  good = _write_records(tmp_path / "good.tfrecord",
                        [_constant_example(f"g{i}", ["xdog"]) for i in range(3)])
  empty = _write_records(tmp_path / "empty-records.tfrecord", [])  # 0 bytes
  (tmp_path / "empty-touched.tfrecord").touch()
  assert os.path.getsize(empty) == 0
  config = _config(str(tmp_path / "*.tfrecord"), eval_data=str(tmp_path / "*.tfrecord"))
  with caplog.at_level("WARNING"):
    batches = _take(input_pipeline.make_train_dataset(config, batch_size=2), 4)
  assert _keys(batches) == {"g0", "g1", "g2"}
  assert "--train_data" in caplog.text
  assert "empty-records.tfrecord" in caplog.text and "empty-touched.tfrecord" in caplog.text
  caplog.clear()
  with caplog.at_level("WARNING"):
    batches = _take(input_pipeline.make_eval_dataset(config, batch_size=2), 4)
  assert sorted(_concat(batches, "key")) == [b"g0", b"g1", b"g2"]
  assert "--eval_data" in caplog.text and "empty-records.tfrecord" in caplog.text


def test_only_empty_files_raise_naming_the_flag_and_files(tmp_path):
  _write_records(tmp_path / "a.tfrecord", [])
  (tmp_path / "b.tfrecord").touch()
  pattern = str(tmp_path / "*.tfrecord")
  with pytest.raises(ValueError, match=r"--train_data.*empty.*a\.tfrecord.*b\.tfrecord"):
    input_pipeline.make_train_dataset(_config(pattern), 2)
  with pytest.raises(ValueError, match=r"--eval_data.*empty.*a\.tfrecord.*b\.tfrecord"):
    input_pipeline.make_eval_dataset(_config(eval_data=pattern), 2)


def _truncate(path, keep_fraction):
  with open(path, "rb") as f:
    data = f.read()
  with open(path, "wb") as f:
    f.write(data[:int(len(data) * keep_fraction)])


@pytest.mark.large
def test_truncated_file_is_read_up_to_the_damage_then_skipped(tmp_path, capfd):
  _write_records(tmp_path / "good.tfrecord",
                 [_constant_example(f"g{i}", ["xdog"]) for i in range(4)])
  bad = _write_records(tmp_path / "bad.tfrecord",
                       [_constant_example(f"b{i}", ["xdog"]) for i in range(6)])
  _truncate(bad, 0.6)  # records b0..b2 whole, b3 cut in the middle
  config = _config(str(tmp_path / "*.tfrecord"), eval_data=bad)
  batches = _take(input_pipeline.make_train_dataset(config, batch_size=4), 10)
  assert _keys(batches) == {"g0", "g1", "g2", "g3", "b0", "b1", "b2"}
  stderr = capfd.readouterr().err
  assert bad in stderr and "skipped" in stderr and "good.tfrecord" not in stderr
  # Evaluation must see every record: the damage is an error naming the file.
  with pytest.raises(tf.errors.InvalidArgumentError, match="bad.tfrecord"):
    _take(input_pipeline.make_eval_dataset(config, batch_size=2), 5)


def test_unreadable_first_record_is_skipped_in_training_and_an_error_in_eval(tmp_path):
  good = _write_records(tmp_path / "b-good.tfrecord", [_constant_example("g", ["xdog"])])
  garbage = tmp_path / "a-garbage.tfrecord"  # sorted first
  garbage.write_bytes(b"not a tfrecord file at all")
  config = _config(f"{garbage},{good}", eval_data=f"{garbage},{good}")
  batches = _take(input_pipeline.make_train_dataset(config, batch_size=2), 2)
  assert _keys(batches) == {"g"}
  with pytest.raises(ValueError, match="--eval_data.*a-garbage.tfrecord"):
    input_pipeline.make_eval_dataset(config, 1)
  with pytest.raises(ValueError, match="--train_data.*no readable record"):
    input_pipeline.make_train_dataset(_config(str(garbage)), 1)


def test_training_input_turns_autotune_off(sample_dataset):
  # TF 2.21: tearing down an autotuned pipeline after a long run blocked for
  # up to a minute (docs/input_pipeline.md); every caller gets the option.
  config = _config(",".join(sample_dataset.train_files))
  dataset = input_pipeline.make_train_dataset(config, batch_size=2)
  assert dataset.options().autotune.enabled is False


def test_a_glob_over_two_shard_sets_of_a_split_is_refused(sample_dataset, tmp_path):
  # An old 2-shard build left beside a new 3-shard one: reading both would see
  # every example twice.
  for name in ("train-00000-of-00002", "train-00001-of-00002", "train-00000-of-00003",
               "train-00001-of-00003", "train-00002-of-00003", "val-00000-of-00001"):
    shutil.copy(sample_dataset.train_files[0], tmp_path / f"{name}.tfrecord")
  with pytest.raises(ValueError, match=r"--train_data matches shards of 2 builds of "
                     r"split 'train' in .*train-\*-of-00002\.tfrecord \(2 files\) and "
                     r"train-\*-of-00003\.tfrecord \(3 files\)"):
    input_pipeline.resolve_files(str(tmp_path / "train-*"), "--train_data")
  # One set per split is fine, also across splits and folders.
  assert len(input_pipeline.resolve_files(
      f"{tmp_path}/train-*-of-00003.tfrecord,{tmp_path}/val-*", "--train_data")) == 4
  assert len(input_pipeline.resolve_files(
      sample_dataset.train_files + [str(tmp_path / "train-00000-of-00003.tfrecord")],
      "--eval_files")) == 3
