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

Damaged input (`records.read_records`): empty files (0 bytes: no records) are named
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

Reading files: `tfcolor.data.records`; one example (decode, crop, flip,
hints): `tfcolor.data.examples`. A record whose image and line art sizes
differ stops the run with an error naming its key.
"""

import dataclasses

import tensorflow as tf
from absl import logging

from tfcolor.config import lineart_kind_probabilities
from tfcolor.data import dropped_records
from tfcolor.data import examples
from tfcolor.data import records
from tfcolor.data.files import resolve_files


def _num_parallel_calls(data_config):
  calls = data_config.num_parallel_calls
  if calls == -1:
    return tf.data.AUTOTUNE
  if calls < 1:
    raise ValueError(f"--num_parallel_calls must be -1 (AUTOTUNE) or >= 1, got {calls}")
  return calls


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
                   all_kinds=False):
  if batch_size < 1:
    raise ValueError(f"batch_size must be >= 1, got {batch_size}")
  kinds, probs = lineart_kind_probabilities(data_config)
  setting = "--train_data"
  files, sizes = records.non_empty_files(
      resolve_files(data_config.train_data, setting), setting)
  records.check_first_record(files, kinds, setting, skip_unreadable=True)
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
    dataset = records.record_files(files, sizes)
    dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.repeat()
    dataset = dataset.interleave(
        lambda path, size: records.read_records(path, size, "skip"),
        cycle_length=min(len(files), 16), block_length=1,
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
  else:
    # Too few files: every pipeline reads them all in a fixed order and keeps
    # its own 1-in-n records (sharded before repeating, so the split is stable).
    logging.warning("%s has %d files for %d input pipelines: each pipeline reads "
                    "every file and keeps 1 record in %d; write more shards",
                    setting, len(files), num_pipelines, num_pipelines)
    dataset = records.record_files(files, sizes).flat_map(
        lambda path, size: records.read_records(path, size, "skip"))
    dataset = dataset.shard(num_pipelines, pipeline_id).repeat()
  dataset = dataset.shuffle(data_config.shuffle_buffer, seed=seed + 1,
                            reshuffle_each_iteration=True)

  base_seed = tf.random.experimental.stateless_fold_in(
      tf.constant([seed, 0x7F1C], tf.int64), pipeline_id)
  dataset = tf.data.Dataset.zip(dataset, tf.data.Dataset.counter())
  dataset = dataset.map(
      lambda serialized, index: (
          records.parse(serialized, kinds),
          tf.random.experimental.stateless_fold_in(base_seed, index)),
      num_parallel_calls=calls, deterministic=deterministic)
  dataset = dropped_records.counted_filter(
      dataset, lambda parsed, _: records.has_lineart(parsed), data_config.max_dropped_fraction,
      records.drop_reason(kinds, setting))
  dataset = dataset.map(
      lambda parsed, example_seed: examples.train_example(
          parsed, example_seed, data_config, probs, all_kinds),
      num_parallel_calls=calls, deterministic=deterministic)
  dataset = dataset.batch(batch_size, drop_remainder=True)
  dataset = dataset.map(examples.finalize_batch, num_parallel_calls=calls,
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
  kinds, probs = lineart_kind_probabilities(data_config)
  setting = "--eval_data" if files is None else "files"
  files, sizes = records.non_empty_files(
      resolve_files(data_config.eval_data if files is None else files, setting),
      setting)
  records.check_first_record(files, kinds, setting, skip_unreadable=False)
  calls = _num_parallel_calls(data_config)
  dataset = records.record_files(files, sizes).flat_map(
      lambda path, size: records.read_records(path, size, "raise"))
  dataset = dataset.map(lambda serialized: records.parse(serialized, kinds),
                        num_parallel_calls=calls, deterministic=True)
  dataset = dropped_records.counted_filter(
      dataset, records.has_lineart, data_config.max_dropped_fraction,
      records.drop_reason(kinds, setting))
  dataset = dataset.map(lambda parsed: examples.eval_example(parsed, data_config, probs),
                        num_parallel_calls=calls, deterministic=True)
  dataset = dataset.batch(batch_size)
  dataset = dataset.map(examples.finalize_batch, num_parallel_calls=calls, deterministic=True)
  dataset = dataset.prefetch(tf.data.AUTOTUNE)
  options = tf.data.Options()
  options.deterministic = True
  return dataset.with_options(options)


def count_dropped_records(data_config, files, setting="files"):
  """(records, records without any of --lineart_kinds) in `files`; reads them all."""
  kinds, _ = lineart_kind_probabilities(data_config)
  files, sizes = records.non_empty_files(resolve_files(files, setting), setting)
  parsed = records.record_files(files, sizes).flat_map(
      lambda path, size: records.read_records(path, size, "raise")).map(
          lambda serialized: records.parse(serialized, kinds),
          num_parallel_calls=_num_parallel_calls(data_config))
  return dropped_records.count_dropped(parsed, records.has_lineart)


def make_preview_dataset(data_config, seed=0):
  """Training examples (unbatched) with every line art kind of the record.

  Same crop, flip and hints as `make_train_dataset` with the same seed and
  `deterministic_train_input`; adds "lineart_kinds" (S, S, K) in the order of
  `lineart_kinds`, "lineart_present" (K,) and "lineart_kind" (index of the kind
  fed as "lineart"). Absent kinds repeat the fed one in "lineart_kinds".
  """
  data_config = dataclasses.replace(data_config, deterministic_train_input=True)
  return _train_dataset(data_config, 1, seed, all_kinds=True).unbatch()
