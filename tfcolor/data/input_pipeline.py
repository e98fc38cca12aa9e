"""tf.data input for training and evaluation, from the TFRecords of `data_tools`.

Training (`make_train_dataset`), per example and all in graph:
  parse -> pick one line art kind among those present in the record, with the
  configured probabilities renormalised over them -> decode -> random crop of
  `crop_size` cut at the same place from image and line art (records whose
  shorter side is below the crop are first resized up, aspect kept) -> random
  horizontal flip of both -> hints from the cropped ground truth -> batch.
Records that carry none of the configured kinds are dropped, counted and
reported, and more than `--max_dropped_fraction` of them stops the run
(`tfcolor.data.dropped_records`); the first record is checked when the
dataset is made, so a dataset built without any of `--lineart_kinds` fails
early with a clear error.

Damaged input (`_read_records`): empty files (0 bytes: no records) are named
in a warning and left out; if every file is empty, a ValueError names the
flag and the files. A corrupt or truncated record ends its file: training
keeps the records before it and prints a warning naming the file and the byte
where reading stopped (every epoch), so one bad shard does not crash a long
run; evaluation, which must see every record, fails with an error naming the
file. Autotuning is off in the training pipeline (see `_train_options`).

Randomness is stateless: every example gets a seed folded from the run's
seed, the input pipeline id and its position in the shuffled record stream, so
kind, crop, flip and hints are a pure function of (seed, position). With
`deterministic_train_input` the record order is fixed too and a run is
reproducible for a seed; by default order is left to tf.data for speed.

Evaluation (`make_eval_dataset`): files in order, no flip, a centre crop (or
the whole image, cropped to a multiple of 16) and line art kind and hints
seeded from a hash of the example's key, so every run and every model sees
the same inputs.

Elements are dicts: "key" (B,) string; "image" (B, S, S, 3) float32 in
[-1, 1]; "lineart" (B, S, S, 1) float32, white paper = +1; "hints"
(B, S, S, 4) float32 (see `tfcolor.data.hints`).

JPEG images are decoded straight into the crop window
(`tf.io.decode_and_crop_jpeg`); PNG images are decoded whole. Line art is
decoded once (the chosen kind only) and its size is checked against the
image's: a record whose sizes differ stops the run with an error naming its key.
"""

import concurrent.futures
import dataclasses
import sys

import tensorflow as tf
from absl import logging

from tfcolor.data import dropped_records
from tfcolor.data import hints as hints_lib
from tfcolor.data import schema
from tfcolor.data import shard_sets

_SIZE_MULTIPLE = 16  # The generator downsamples 4 times.
_EVAL_SEED_SALT = 0x5EED  # Second word of the stateless seed of eval examples.
# Bytes a TFRecord adds to each record: uint64 length and two uint32 CRCs.
_RECORD_FRAMING_BYTES = 16
_MAX_NAMED_FILES = 10  # Files listed by name in one message.


def resolve_files(patterns, flag_name):
  """Sorted, de-duplicated files matching comma-separated glob(s).

  Args:
    patterns: a string of comma-separated globs, or a list of globs/paths.
    flag_name: named in errors, e.g. "--train_data".

  Raises:
    ValueError: nothing given, a pattern that matches no file, or shards of
      two builds of one split (`shard_sets.check_single_set`).
  """
  if isinstance(patterns, str):
    patterns = patterns.split(",")
  patterns = [p.strip() for p in patterns if p and p.strip()]
  if not patterns:
    raise ValueError(f"{flag_name} is empty: give a glob (or comma-separated globs) "
                     "of TFRecord files")
  files = []
  for pattern in patterns:
    matches = tf.io.gfile.glob(pattern)
    if not matches:
      raise ValueError(f"{flag_name}: pattern {pattern!r} matches no files")
    files.extend(matches)
  files = sorted(set(files))
  shard_sets.check_single_set(files, flag_name)
  return files


def _name_files(files):
  names = ", ".join(files[:_MAX_NAMED_FILES])
  more = len(files) - _MAX_NAMED_FILES
  return names + (f" and {more} more" if more > 0 else "")


def _file_sizes(files):
  """Sizes in bytes; stat calls run in parallel (one round trip each on GCS)."""
  if len(files) <= 4:
    return [tf.io.gfile.stat(path).length for path in files]
  with concurrent.futures.ThreadPoolExecutor(min(16, len(files))) as pool:
    return list(pool.map(lambda path: tf.io.gfile.stat(path).length, files))


def _non_empty_files(files, flag_name):
  """(files, sizes) without the empty files, which are named in a warning.

  An uncompressed TFRecord file without records has 0 bytes. Raises ValueError
  naming the flag when every file is empty: a repeated dataset of them would
  never give an element, and an eval split of them would be silently empty.
  """
  sizes = _file_sizes(files)
  empty = [path for path, size in zip(files, sizes) if size == 0]
  if len(empty) == len(files):
    raise ValueError(f"{flag_name}: every file is empty (0 bytes, no records): "
                     f"{_name_files(empty)}")
  if empty:
    logging.warning("%s: skipping %d empty file(s) (0 bytes, no records): %s",
                    flag_name, len(empty), _name_files(empty))
  kept = [(path, size) for path, size in zip(files, sizes) if size > 0]
  return [path for path, _ in kept], [size for _, size in kept]


def _read_records(path, size, on_damage):
  """The records of one TFRecord file; a damaged record ends the file.

  `ignore_errors` ends the file at the first corrupt or truncated record (or
  read error; TF logs its own reason as a C++ warning). To name the file, the
  bytes read are counted and compared with its size at an end marker (an empty
  record; data_tools never writes one, and one inside a file is dropped and
  reported like damage). "skip" prints a warning (to stderr, in graph: no
  py_function) and keeps the records before the damage; "raise" fails with an
  error naming the file. One `scan` and one `filter` per record, no `cond`:
  each tf.data function call costs about as much as reading a record.

  Args:
    path: scalar string tensor.
    size: scalar int64 tensor, the file size when the dataset was made.
    on_damage: "skip" (training) or "raise" (evaluation).
  """
  records = tf.data.TFRecordDataset(path).ignore_errors(log_warning=True)
  records = records.concatenate(tf.data.Dataset.from_tensors(tf.constant(b"")))

  def check(bytes_read, record):
    record_bytes = tf.cast(tf.strings.length(record), tf.int64)
    damaged = tf.logical_and(tf.equal(record_bytes, 0), tf.not_equal(bytes_read, size))
    if on_damage == "raise":
      report = tf.debugging.Assert(tf.logical_not(damaged), [
          "corrupt or truncated TFRecord file", path, "read up to byte", bytes_read,
          "of", size, "; evaluation needs every record: rebuild the file"])
    else:
      message = tf.strings.join([
          "WARNING tfcolor.data: skipped the rest of ", path, " after byte ",
          tf.strings.as_string(bytes_read), " of ", tf.strings.as_string(size),
          " (a corrupt or truncated record, or a read error); the records before "
          "it are used\n"])
      report = tf.print(tf.where(damaged, message, ""), end="", output_stream=sys.stderr)
    with tf.control_dependencies([report]):
      return bytes_read + record_bytes + _RECORD_FRAMING_BYTES, tf.identity(record)

  records = records.scan(tf.constant(0, tf.int64), check)
  return records.filter(lambda record: tf.strings.length(record) > 0)


def _record_files(files, sizes):
  """(path, size) pairs for `_read_records`."""
  return tf.data.Dataset.from_tensor_slices(
      (tf.constant(files, tf.string), tf.constant(sizes, tf.int64)))


def _kind_probabilities(data_config):
  kinds = tuple(data_config.lineart_kinds)
  probs = tuple(float(p) for p in data_config.lineart_probs)
  if not kinds:
    raise ValueError("--lineart_kinds is empty")
  if len(probs) != len(kinds):
    raise ValueError(f"--lineart_probs has {len(probs)} values but --lineart_kinds "
                     f"has {len(kinds)}")
  if any(p <= 0 for p in probs):
    raise ValueError(f"--lineart_probs must all be > 0, got {probs}")
  return kinds, probs


def _parse(serialized, kinds):
  """Record -> key, image bytes, (K,) line art bytes and (K,) presence flags."""
  features = {schema.KEY: tf.io.FixedLenFeature([], tf.string, default_value=""),
              schema.IMAGE: tf.io.FixedLenFeature([], tf.string)}
  for kind in kinds:
    features[schema.lineart_feature(kind)] = tf.io.FixedLenFeature(
        [], tf.string, default_value="")
  parsed = tf.io.parse_single_example(serialized, features)
  lineart = tf.stack([parsed[schema.lineart_feature(kind)] for kind in kinds])
  return {"key": parsed[schema.KEY], "image": parsed[schema.IMAGE],
          "lineart": lineart, "present": tf.strings.length(lineart) > 0}


def _has_lineart(parsed):
  return tf.reduce_any(parsed["present"])


def _drop_reason(kinds, flag_name):
  return f"no line art of --lineart_kinds={','.join(kinds)} ({flag_name})"


def _choose_kind(present, probs, seed):
  """Index of one present kind, drawn with `probs` renormalised over them."""
  weights = tf.where(present, tf.constant(probs, tf.float32), 0.0)
  cumulative = tf.cumsum(weights)
  target = tf.random.stateless_uniform([], seed) * cumulative[-1]
  # First index whose cumulative weight exceeds the target; absent kinds add
  # nothing, so they can never be that index. The minimum guards against
  # target rounding up to the total (then no index would exceed it).
  last_present = tf.shape(present)[0] - 1 - tf.argmax(
      tf.reverse(tf.cast(present, tf.int32), [0]), output_type=tf.int32)
  return tf.minimum(tf.reduce_sum(tf.cast(cumulative <= target, tf.int32)),
                    last_present)


def _decode_lineart(encoded):
  return tf.io.decode_image(encoded, channels=1, expand_animations=False)


def _assert_same_size(image_size, lineart_size, key):
  """Assert op: a record's image and line art must have the same size."""
  return tf.debugging.Assert(
      tf.reduce_all(tf.equal(image_size, lineart_size)),
      ["image and line art sizes (height, width) differ in the record with key",
       key, image_size, lineart_size])


def _decode_window(image_bytes, lineart, key, top, left, height, width):
  """Image and line art cut to the same window; line art is already decoded."""
  lineart_size = tf.shape(lineart)[:2]

  def jpeg():
    image_size = tf.io.extract_jpeg_shape(image_bytes)[:2]
    check = _assert_same_size(image_size, lineart_size, key)
    with tf.control_dependencies([check]):
      window = tf.stack([top, left, height, width])
    return tf.io.decode_and_crop_jpeg(image_bytes, window, channels=3)

  def other():
    image = tf.io.decode_image(image_bytes, channels=3, expand_animations=False)
    with tf.control_dependencies(
        [_assert_same_size(tf.shape(image)[:2], lineart_size, key)]):
      return image[top:top + height, left:left + width]

  image = tf.cond(tf.io.is_jpeg(image_bytes), jpeg, other)
  return image, lineart[top:top + height, left:left + width]


def _resize_up(image_bytes, lineart, key, min_side):
  """Decodes and resizes image and line art so the shorter side is min_side."""
  image = tf.io.decode_image(image_bytes, channels=3, expand_animations=False)
  with tf.control_dependencies(
      [_assert_same_size(tf.shape(image)[:2], tf.shape(lineart)[:2], key)]):
    stacked = tf.concat([image, lineart], axis=-1)
  size = tf.cast(tf.shape(stacked)[:2], tf.float32)
  scale = tf.cast(min_side, tf.float32) / tf.reduce_min(size)
  new_size = tf.maximum(tf.cast(tf.math.ceil(size * scale), tf.int32), min_side)
  resized = tf.image.resize(stacked, new_size, method="bilinear")
  resized = tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)
  return resized[..., :3], resized[..., 3:]


def _crop(image_bytes, lineart, key, crop_size, window_offsets):
  """Square crop_size crop of image and line art at `window_offsets(h, w)`.

  Records smaller than the crop are resized up first (shorter side = crop).
  """
  size = tf.shape(lineart)[:2]

  def direct():
    top, left = window_offsets(size[0], size[1])
    return _decode_window(image_bytes, lineart, key, top, left, crop_size, crop_size)

  def resized():
    image, resized_lineart = _resize_up(image_bytes, lineart, key, crop_size)
    new_size = tf.shape(image)[:2]
    top, left = window_offsets(new_size[0], new_size[1])
    return (image[top:top + crop_size, left:left + crop_size],
            resized_lineart[top:top + crop_size, left:left + crop_size])

  image, lineart = tf.cond(tf.reduce_min(size) >= crop_size, direct, resized)
  channels = lineart.shape[-1]
  return (tf.ensure_shape(image, [crop_size, crop_size, 3]),
          tf.ensure_shape(lineart, [crop_size, crop_size, channels]))


def _to_model_range(pixels):
  return tf.cast(pixels, tf.float32) * (1.0 / 127.5) - 1.0


def _decode_lineart_kinds(parsed, kind_index, all_kinds):
  """(H, W, 1) line art of the chosen kind, or (H, W, K) of every kind.

  With all_kinds, absent kinds repeat the chosen one (their flag in
  parsed["present"] says so); used by the preview.
  """
  chosen = parsed["lineart"][kind_index]
  if not all_kinds:
    return _decode_lineart(chosen)
  encoded = tf.where(parsed["present"], parsed["lineart"], chosen)
  return tf.concat([_decode_lineart(encoded[i]) for i in range(encoded.shape[0])], -1)


def _example(parsed, image, lineart, kind_index, hint_seed, data_config, all_kinds):
  """One example before batching: uint8 pixels and the raw hint draws.

  Pixels stay uint8 and hints stay a few numbers until after batching;
  `_finalize_batch` then makes the floats and paints the hints of the whole
  batch at once.
  """
  size = tf.shape(image)
  patches = hints_lib.sample_hint_patches(
      size[0], size[1], hint_seed, hints_lib.HintSampling.from_config(data_config))
  example = {"key": parsed["key"], "image": image, "lineart": lineart,
             "hint_patches": patches._asdict()}
  if all_kinds:
    example.update(lineart_present=parsed["present"], lineart_kind=kind_index)
  return example


def _finalize_batch(batch):
  """uint8 pixels and hint draws -> the model's float32 inputs (DESIGN.md ranges)."""
  batch = dict(batch)
  image = _to_model_range(batch.pop("image"))
  lineart = _to_model_range(batch.pop("lineart"))
  patches = hints_lib.HintPatches(**batch.pop("hint_patches"))
  outputs = {"key": batch.pop("key"), "image": image,
             "hints": hints_lib.hints_from_patches(image, patches)}
  if "lineart_kind" in batch:  # preview: every kind, and the one fed as "lineart"
    outputs["lineart_kinds"] = lineart
    outputs["lineart"] = tf.gather(lineart, batch["lineart_kind"], axis=-1,
                                   batch_dims=1)[..., None]
    outputs.update(batch)
  else:
    outputs["lineart"] = lineart
  return outputs


def _train_example(parsed, seed, data_config, probs, all_kinds=False):
  kind_seed, crop_seed, flip_seed, hint_seed = tf.unstack(
      tf.random.experimental.stateless_split(seed, num=4))
  kind_index = _choose_kind(parsed["present"], probs, kind_seed)
  lineart = _decode_lineart_kinds(parsed, kind_index, all_kinds)
  crop_size = data_config.crop_size

  def random_offsets(height, width):
    top_seed, left_seed = tf.unstack(
        tf.random.experimental.stateless_split(crop_seed, num=2))
    top = tf.random.stateless_uniform([], top_seed, 0, height - crop_size + 1, tf.int32)
    left = tf.random.stateless_uniform([], left_seed, 0, width - crop_size + 1,
                                       tf.int32)
    return top, left

  image, lineart = _crop(parsed["image"], lineart, parsed["key"], crop_size,
                         random_offsets)
  flip = tf.random.stateless_uniform([], flip_seed) < 0.5
  image, lineart = tf.cond(
      flip, lambda: (tf.reverse(image, [1]), tf.reverse(lineart, [1])),
      lambda: (image, lineart))
  return _example(parsed, image, lineart, kind_index, hint_seed, data_config,
                  all_kinds)


def _eval_seed(key):
  """Stateless seed from the example key: identical on every run and machine."""
  key_hash = tf.strings.to_hash_bucket_fast(key, 2**31 - 1)
  return tf.stack([key_hash, tf.constant(_EVAL_SEED_SALT, tf.int64)])


def _eval_example(parsed, data_config, probs):
  kind_seed, hint_seed = tf.unstack(
      tf.random.experimental.stateless_split(_eval_seed(parsed["key"]), num=2))
  kind_index = _choose_kind(parsed["present"], probs, kind_seed)
  lineart = _decode_lineart_kinds(parsed, kind_index, all_kinds=False)

  if data_config.eval_mode == "full":
    size = tf.shape(lineart)[:2]
    big_enough = tf.debugging.Assert(
        tf.reduce_min(size) >= _SIZE_MULTIPLE,
        ["--eval_mode=full needs images of at least 16 x 16; record key",
         parsed["key"], size])
    with tf.control_dependencies([big_enough]):
      cropped = size // _SIZE_MULTIPLE * _SIZE_MULTIPLE
    top, left = tf.unstack((size - cropped) // 2)
    image, lineart = _decode_window(parsed["image"], lineart, parsed["key"], top,
                                    left, cropped[0], cropped[1])
    image = tf.ensure_shape(image, [None, None, 3])
    lineart = tf.ensure_shape(lineart, [None, None, 1])
  else:
    crop_size = data_config.crop_size

    def centre_offsets(height, width):
      return (height - crop_size) // 2, (width - crop_size) // 2

    image, lineart = _crop(parsed["image"], lineart, parsed["key"], crop_size,
                           centre_offsets)
  return _example(parsed, image, lineart, kind_index, hint_seed, data_config,
                  all_kinds=False)


def _num_parallel_calls(data_config):
  calls = data_config.num_parallel_calls
  if calls == -1:
    return tf.data.AUTOTUNE
  if calls < 1:
    raise ValueError(f"--num_parallel_calls must be -1 (AUTOTUNE) or >= 1, got {calls}")
  return calls


def _check_first_record(files, kinds, flag_name, skip_unreadable):
  """Fails early when the first readable record has none of the configured kinds.

  Such records are skipped; if a whole dataset lacks them, an infinite training
  dataset would otherwise wait forever. The same holds when no file has a
  readable first record. A file whose first record cannot be read is named in
  a warning (skip_unreadable, training) or a ValueError (evaluation). Skipped
  when not executing eagerly.
  """
  if not tf.executing_eagerly():
    return
  for path in files:
    try:
      serialized = next(iter(tf.data.TFRecordDataset(path).take(1)), None)
    except tf.errors.OpError as error:
      if not skip_unreadable:
        raise ValueError(f"{flag_name}: cannot read the first record of {path}: "
                         f"{error.message}") from None
      logging.warning("%s: cannot read the first record of %s (%s); the file "
                      "gives nothing", flag_name, path, error.message)
      continue
    if serialized is None:  # Emptied since it was listed.
      continue
    example = tf.train.Example.FromString(serialized.numpy())
    names = set(example.features.feature)
    if not any(schema.lineart_feature(kind) in names for kind in kinds):
      found = sorted(n[len(schema.LINEART_PREFIX):] for n in names
                     if n.startswith(schema.LINEART_PREFIX))
      raise ValueError(
          f"{flag_name}: the first record of {path} has line art kinds {found} but "
          f"--lineart_kinds={','.join(kinds)}; records without any of those are "
          "skipped, so this dataset would give nothing")
    return
  raise ValueError(f"{flag_name}: no readable record in any of its {len(files)} "
                   f"files: {_name_files(files)}")


def _train_options(deterministic):
  """Options of every training pipeline.

  Autotuning is off: in TF 2.21, destroying the iterator of an autotuned
  pipeline after a long, CPU-bound run blocked for up to a minute (the
  autotuner's optimisation thread). Without it, AUTOTUNE parallelism falls
  back to a fixed default (the number of cores) and the demo's throughput was
  the same. Set here, so every user of the pipeline gets it.
  """
  options = tf.data.Options()
  options.deterministic = deterministic
  options.autotune.enabled = False
  return options


def _train_dataset(data_config, batch_size, seed=0, input_context=None,
                   all_kinds=False, flag_name="--train_data"):
  if batch_size < 1:
    raise ValueError(f"batch_size must be >= 1, got {batch_size}")
  kinds, probs = _kind_probabilities(data_config)
  files, sizes = _non_empty_files(
      resolve_files(data_config.train_data, flag_name), flag_name)
  _check_first_record(files, kinds, flag_name, skip_unreadable=True)
  num_pipelines, pipeline_id = 1, 0
  if input_context is not None:
    num_pipelines = input_context.num_input_pipelines
    pipeline_id = input_context.input_pipeline_id
  deterministic = bool(data_config.deterministic_train_input)
  calls = _num_parallel_calls(data_config)
  if len(files) >= num_pipelines:
    # Each pipeline reads its own files, in a new order every epoch.
    files = files[pipeline_id::num_pipelines]
    sizes = sizes[pipeline_id::num_pipelines]
    dataset = _record_files(files, sizes)
    dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.repeat()
    dataset = dataset.interleave(
        lambda path, size: _read_records(path, size, "skip"),
        cycle_length=min(len(files), 16), block_length=1,
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
  else:
    # Too few files: every pipeline reads them all in a fixed order and keeps
    # its own 1-in-n records (sharded before repeating, so the split is stable).
    logging.warning("%s has %d files for %d input pipelines: each pipeline reads "
                    "every file and keeps 1 record in %d; write more shards",
                    flag_name, len(files), num_pipelines, num_pipelines)
    dataset = _record_files(files, sizes).flat_map(
        lambda path, size: _read_records(path, size, "skip"))
    dataset = dataset.shard(num_pipelines, pipeline_id).repeat()
  dataset = dataset.shuffle(data_config.shuffle_buffer, seed=seed + 1,
                            reshuffle_each_iteration=True)

  base_seed = tf.random.experimental.stateless_fold_in(
      tf.constant([seed, 0x7F1C], tf.int64), pipeline_id)
  dataset = tf.data.Dataset.zip(dataset, tf.data.Dataset.counter())
  dataset = dataset.map(
      lambda serialized, index: (
          _parse(serialized, kinds),
          tf.random.experimental.stateless_fold_in(base_seed, index)),
      num_parallel_calls=calls, deterministic=deterministic)
  dataset = dropped_records.counted_filter(
      dataset, lambda parsed, _: _has_lineart(parsed), data_config.max_dropped_fraction,
      _drop_reason(kinds, flag_name))
  dataset = dataset.map(
      lambda parsed, example_seed: _train_example(
          parsed, example_seed, data_config, probs, all_kinds),
      num_parallel_calls=calls, deterministic=deterministic)
  dataset = dataset.batch(batch_size, drop_remainder=True)
  dataset = dataset.map(_finalize_batch, num_parallel_calls=calls,
                        deterministic=deterministic)
  dataset = dataset.prefetch(tf.data.AUTOTUNE)
  return dataset.with_options(_train_options(deterministic))


def make_train_dataset(data_config, batch_size, seed=0, input_context=None):
  """Infinite, shuffled training batches (see the module docstring).

  Args:
    data_config: `tfcolor.config.DataConfig`; reads `train_data`, `crop_size`,
      line art kinds and probabilities, hint settings, `shuffle_buffer`,
      `num_parallel_calls` and `deterministic_train_input`.
    batch_size: examples per batch of THIS pipeline (the per-replica batch under
      a distribution strategy); the last partial batch is never emitted.
    seed: seed of the shuffles and of every example's augmentation and hints.
    input_context: `tf.distribute.InputContext`; each input pipeline then reads
      its own subset of the files (or, with fewer files than pipelines, its own
      1-in-n records).

  Returns:
    tf.data.Dataset of {"key", "image", "lineart", "hints"} batches.
  """
  return _train_dataset(data_config, batch_size, seed, input_context)


def make_eval_dataset(data_config, batch_size, files=None):
  """Finite evaluation batches in file order, identical on every run.

  Args:
    data_config: `tfcolor.config.DataConfig`; reads `eval_data`, `eval_mode`,
      `crop_size`, line art kinds and probabilities and hint settings.
    batch_size: examples per batch; the last batch may be smaller. With
      `eval_mode="full"` images keep their own size (cropped down to a multiple
      of 16), so batch_size must be 1 (no padding is added).
    files: glob(s) or list of files; defaults to `data_config.eval_data`.

  Returns:
    tf.data.Dataset of {"key", "image", "lineart", "hints"} batches.
  """
  if batch_size < 1:
    raise ValueError(f"batch_size must be >= 1, got {batch_size}")
  if data_config.eval_mode == "full" and batch_size != 1:
    raise ValueError(f"--eval_mode=full keeps each image's own size, so it needs a "
                     f"batch size of 1, got {batch_size}; use --eval_mode=center_crop "
                     "to batch")
  kinds, probs = _kind_probabilities(data_config)
  flag_name = "--eval_data" if files is None else "files"
  files, sizes = _non_empty_files(
      resolve_files(data_config.eval_data if files is None else files, flag_name),
      flag_name)
  _check_first_record(files, kinds, flag_name, skip_unreadable=False)
  calls = _num_parallel_calls(data_config)
  dataset = _record_files(files, sizes).flat_map(
      lambda path, size: _read_records(path, size, "raise"))
  dataset = dataset.map(lambda serialized: _parse(serialized, kinds),
                        num_parallel_calls=calls, deterministic=True)
  dataset = dropped_records.counted_filter(
      dataset, _has_lineart, data_config.max_dropped_fraction,
      _drop_reason(kinds, flag_name))
  dataset = dataset.map(lambda parsed: _eval_example(parsed, data_config, probs),
                        num_parallel_calls=calls, deterministic=True)
  dataset = dataset.batch(batch_size)
  dataset = dataset.map(_finalize_batch, num_parallel_calls=calls, deterministic=True)
  dataset = dataset.prefetch(tf.data.AUTOTUNE)
  options = tf.data.Options()
  options.deterministic = True
  return dataset.with_options(options)


def count_dropped_records(data_config, files, flag_name="files"):
  """(records, records without any of --lineart_kinds) in `files`; reads them all."""
  kinds, _ = _kind_probabilities(data_config)
  files, sizes = _non_empty_files(resolve_files(files, flag_name), flag_name)
  parsed = _record_files(files, sizes).flat_map(
      lambda path, size: _read_records(path, size, "raise")).map(
          lambda serialized: _parse(serialized, kinds),
          num_parallel_calls=_num_parallel_calls(data_config))
  return dropped_records.count_dropped(parsed, _has_lineart)


def make_preview_dataset(data_config, seed=0, flag_name="--train_data"):
  """Training examples (unbatched) with every line art kind of the record.

  Same crop, flip and hints as `make_train_dataset` with the same seed and
  `deterministic_train_input`; adds "lineart_kinds" (S, S, K) in the order of
  `lineart_kinds`, "lineart_present" (K,) and "lineart_kind" (index of the kind
  fed as "lineart"). Absent kinds repeat the fed one in "lineart_kinds".
  """
  data_config = dataclasses.replace(data_config, deterministic_train_input=True)
  return _train_dataset(data_config, 1, seed, all_kinds=True,
                        flag_name=flag_name).unbatch()
