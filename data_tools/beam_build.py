"""The dataset builder as an Apache Beam pipeline (local by default, or Dataflow,
Flink, Spark through Beam's pipeline options).

  files -> Reshuffle -> DecodeAndCpuLineArt (XDoG) -> BatchElements ->
  BatchedLineArt (neural, loaded once per worker in setup()) -> KeyByShard ->
  GroupByKey (shard) -> WriteShard (sorted by key, temporary name, rename)

The build is deterministic: a record's shard comes from a hash of its key
(shards.shard_for, the rule of the process pool too) and each shard holds its
records in key order, so the same inputs and settings give byte-identical
shards on every run and runner, whatever order the workers finish in.
Rejected files leave each step on the tagged output `skipped`, are written as
JSON lines next to the shards and folded into report.json by the launcher;
their counts are also Beam metrics (namespace `tfcolor_build`), visible in the
Dataflow UI. The per-image work is the plain functions of image_steps.py.
"""

import json
import logging as std_logging
import os
import shutil
import uuid

import apache_beam as beam
from absl import logging
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options import pipeline_options as options_lib
from apache_beam.runners.runner import create_runner

from data_tools import image_steps
from data_tools import input_files
from data_tools import shards as shards_lib
from data_tools import tfrecord_files
from data_tools.extractors import create_extractor
from tfcolor import io_utils

METRICS_NAMESPACE = "tfcolor_build"
SKIPPED = "skipped"
SKIPPED_DIR_PREFIX = ".beam-skipped-"
# The local runner forwards every SDK worker's log lines to this process; at
# INFO they are ~20 lines of harness start-up and shut-down per worker.
WORKER_LOG_FORWARDER = "apache_beam.runners.portability.local_job_service"
BEAM_TEMP_PREFIX = "beam-temp-"  # Where WriteShard stages shards.
# What --runner=DirectRunner falls back to after trying Prism, whose binary
# comes from GitHub on first use (docs/data.md: "Which local runner").
LOCAL_BEAM_RUNNER = "apache_beam.runners.portability.fn_api_runner.FnApiRunner"


def pipeline_options(config, pipeline_args):
  """Beam options: this machine's every core unless the arguments say otherwise.

  `config.runner` ('' = Beam's local FnApiRunner in multi-process mode with
  --num_workers processes) becomes `--runner`; `pipeline_args` (everything on
  the command line that is not a builder flag) come last, so they win.
  """
  workers = config.num_workers or os.cpu_count() or 1
  args = [f"--runner={LOCAL_BEAM_RUNNER}", f"--direct_num_workers={workers}",
          "--direct_running_mode=" + ("multi_processing" if workers > 1 else "in_memory"),
          # Workers' INFO lines (start-up, every bundle) would drown the progress.
          "--default_sdk_harness_log_level=WARNING"]
  if config.runner:
    args.append(f"--runner={config.runner}")
  return options_lib.PipelineOptions(args + list(pipeline_args))


def check_options(config, pipeline_args):
  """Raises ValueError for options Beam cannot use (unknown runner or option, a
  gs:// or s3:// path without its Beam extra)."""
  for flag, path in (("--input_dir", config.input_dir), ("--output_dir", config.output_dir)):
    try:
      FileSystems.get_filesystem(path)
    except ValueError as error:
      raise ValueError(f"{flag}={path}: {error}") from None
  options = pipeline_options(config, pipeline_args)
  unknown = sorted(set(options.get_all_options(retain_unknown_options=True))
                   - set(options.get_all_options()))
  if unknown:
    raise ValueError(f"unknown options {['--' + name for name in unknown]}: neither "
                     "a builder flag nor a Beam pipeline option")
  try:
    create_runner(options.view_as(options_lib.StandardOptions).runner)
  except ImportError as error:  # E.g. DataflowRunner without apache-beam[gcp].
    raise ValueError(str(error)) from None
  return options


def _counter(name):
  return Metrics.counter(METRICS_NAMESPACE, name)


def _skipped_entry(key, reason):
  _counter("skipped " + reason.split(":", 1)[0]).inc()
  return beam.pvalue.TaggedOutput(SKIPPED, {"key": key, "reason": reason})


class _ExtractorsDoFn(beam.DoFn):
  """Creates its extractors once per worker, in setup(); times them as metrics."""

  def __init__(self, extractor_configs):
    self._extractor_configs = extractor_configs
    self._extractors = None
    self._microseconds = {kind: Metrics.distribution(METRICS_NAMESPACE, f"us {kind}")
                          for kind in extractor_configs}

  def setup(self):
    self._extractors = {kind: create_extractor(kind, extractor_config)
                        for kind, extractor_config in self._extractor_configs.items()}


class DecodeAndCpuLineArt(_ExtractorsDoFn):
  """(key, path) -> result of image_steps.process_file, or a tagged skip."""

  def __init__(self, config, cpu_configs, keep_rgb):
    super().__init__(cpu_configs)
    self._config = config
    self._keep_rgb = keep_rgb

  def process(self, element):
    key, path = element
    _counter("images processed").inc()
    result = image_steps.process_file(key, path, self._config, self._extractors,
                                      self._keep_rgb)
    if result["skip"]:
      yield _skipped_entry(key, result["skip"])
      return
    for kind, seconds in result.pop("seconds").items():
      self._microseconds[kind].update(int(round(seconds * 1e6)))
    yield result


class BatchedLineArt(_ExtractorsDoFn):
  """Batches of results -> with every neural kind's line art, or tagged skips.

  The models load once per worker process, in setup(); a batch that fails is
  retried image by image, so only the culprit is skipped.
  """

  def process(self, batch):
    seconds = {kind: 0.0 for kind in self._extractors}
    complete, skipped = image_steps.add_batch_linearts(batch, self._extractors, seconds)
    for kind, total in seconds.items():  # One entry per image, as for the CPU kinds.
      for _ in batch:
        self._microseconds[kind].update(int(round(total * 1e6 / len(batch))))
    for entry in skipped:
      yield _skipped_entry(entry["key"], entry["reason"])
    for result in complete:
      result["rgb"] = None
      yield result


class KeyFiles(beam.DoFn):
  """Matched file metadata -> (key, path) of the images, or a tagged skip
  (--exclude_keys). Listing inside the pipeline keeps millions of paths out of
  the job graph (Dataflow limits its size)."""

  def __init__(self, input_dir, exclude):
    self._prefix = input_dir.rstrip("/") + "/"
    self._exclude = exclude

  def process(self, metadata):
    key = metadata.path[len(self._prefix):]
    if not input_files.is_image_key(key):
      return
    _counter("files listed").inc()
    if input_files.is_excluded(key, self._exclude):
      yield _skipped_entry(key, "excluded: listed in --exclude_keys")
    else:
      yield key, metadata.path


def _key_by_shard(result, fractions, shard_counts):
  """A result -> (its shard's name, (key, tf.train.Example bytes))."""
  key = result["key"]
  _counter("examples " + shards_lib.split_of(key, fractions)).inc()
  return (shards_lib.shard_for(key, fractions, shard_counts),
          (key, image_steps.serialize_record(key, result["image"], result["lineart"])))


class WriteShard(beam.DoFn):
  """(shard name, [(key, record)] or None entries) -> OUT/<shard>, records in key order.

  Written under a temporary name in `temp_dir` (unique per attempt, so a retried
  or speculative attempt never writes into another's file) and renamed through
  Beam's file systems: no reader ever sees a half-written shard under its final
  name. The None entry (one per shard) makes shards without records exist too.
  """

  def __init__(self, output_dir, temp_dir):
    self._output_dir = output_dir
    self._temp_dir = temp_dir

  def process(self, element):
    shard, entries = element
    records = sorted((entry for entry in entries if entry is not None),
                     key=lambda entry: entry[0])
    temp_path = FileSystems.join(self._temp_dir, f"{uuid.uuid4().hex}-{shard}")
    try:
      with FileSystems.create(temp_path, mime_type="application/octet-stream",
                              compression_type=CompressionTypes.UNCOMPRESSED) as f:
        for _, record in records:
          tfrecord_files.write_record(f, record)
      FileSystems.rename([temp_path], [FileSystems.join(self._output_dir, shard)])
    except BaseException:
      if FileSystems.exists(temp_path):
        FileSystems.delete([temp_path])
      raise
    _counter("shards written").inc()
    yield shard, len(records)


def build_pipeline(root, files, config, cpu_configs, batch_configs, shard_counts,
                   skipped_prefix, temp_dir, exclude=frozenset()):
  """Adds the build to pipeline `root`.

  files: [(key, path)] listed by the launcher, or None to list
  `config.input_dir` in the pipeline (and drop `exclude` there); cpu_configs /
  batch_configs: {kind: extractor config} run one image at a time / in
  batches; shard_counts: {split: shard count}; temp_dir: where shards are
  written before their rename.
  """
  fractions = (config.train_fraction, config.val_fraction, config.test_fraction)
  skipped = []
  if files is None:
    listed = (root
              | "MatchFiles" >> fileio.MatchFiles(
                  config.input_dir.rstrip("/") + "/**")
              | "KeyFiles" >> beam.ParDo(KeyFiles(config.input_dir, exclude)).with_outputs(
                  SKIPPED, main="files"))
    files, skipped = listed.files, [listed[SKIPPED]]
  else:
    files = root | "ListFiles" >> beam.Create(files)
  steps = (files
           | "Spread" >> beam.Reshuffle()
           | "DecodeAndCpuLineArt" >> beam.ParDo(DecodeAndCpuLineArt(
               config, cpu_configs, keep_rgb=bool(batch_configs))).with_outputs(
                   SKIPPED, main="records"))
  records = steps.records
  skipped.append(steps[SKIPPED])
  if batch_configs:
    batched = (records
               # Fixed size (the last of a bundle may be smaller): a model sees
               # few distinct batch shapes.
               | "Batch" >> beam.BatchElements(
                   min_batch_size=config.extract_chunk_size,
                   max_batch_size=config.extract_chunk_size)
               | "BatchedLineArt" >> beam.ParDo(BatchedLineArt(batch_configs)).with_outputs(
                   SKIPPED, main="records"))
    records = batched.records
    skipped.append(batched[SKIPPED])
  every_shard = (root
                 | "EveryShard" >> beam.Create(
                     [(shard, None) for shard in shards_lib.all_shards(shard_counts)]))
  keyed = records | "KeyByShard" >> beam.Map(_key_by_shard, fractions, shard_counts)
  _ = ((keyed, every_shard)
       | "WithEveryShard" >> beam.Flatten()
       | "GroupByShard" >> beam.GroupByKey()
       | "WriteShard" >> beam.ParDo(WriteShard(config.output_dir, temp_dir)))
  _ = (tuple(skipped)
       | "Skipped" >> beam.Flatten()
       | "SkippedAsJson" >> beam.Map(json.dumps, sort_keys=True)
       | "WriteSkipped" >> beam.io.WriteToText(skipped_prefix, file_name_suffix=".jsonl"))


def count_records(path):
  """Records in a TFRecord file (its length headers; the data is seeked over)."""
  with FileSystems.open(path, mime_type="application/octet-stream",
                        compression_type=CompressionTypes.UNCOMPRESSED) as f:
    return tfrecord_files.count_records(f, path)


def write_json(path, obj):
  """Local: atomically (temporary name, rename); a URL: through Beam's file systems
  (an object store shows the object only once it is closed)."""
  if "://" not in path:
    io_utils.atomic_write_json(path, obj)
    return
  with FileSystems.create(path, mime_type="application/json") as f:
    f.write((json.dumps(obj, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def _read_skipped(skipped_dir):
  entries = []
  for metadata in FileSystems.match([FileSystems.join(skipped_dir, "*.jsonl")])[0].metadata_list:
    with FileSystems.open(metadata.path) as f:
      entries += [json.loads(line) for line in f.read().decode("utf-8").splitlines()
                  if line.strip()]
  return entries


def _metrics(result):
  """{name: value} of the build's counters and distributions (committed if known)."""
  found = {}
  query = result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))
  for counter in query["counters"]:
    value = counter.committed if counter.committed is not None else counter.attempted
    found[counter.key.metric.name] = found.get(counter.key.metric.name, 0) + value
  for distribution in query["distributions"]:
    value = distribution.committed or distribution.attempted
    if value is not None:
      count, total = found.get(distribution.key.metric.name, (0, 0))
      found[distribution.key.metric.name] = (count + value.count, total + value.sum)
  return found


def remove_stale_temporaries(output_dir):
  """Deletes the staging folders a killed local run left in `output_dir`."""
  if "://" in output_dir or not os.path.isdir(output_dir):
    return []
  stale = sorted(name for name in os.listdir(output_dir)
                 if name.startswith((BEAM_TEMP_PREFIX, SKIPPED_DIR_PREFIX)))
  for name in stale:
    shutil.rmtree(os.path.join(output_dir, name), ignore_errors=True)
  return stale


def run(config, files, cpu_configs, batch_configs, shard_counts, pipeline_args,
        exclude=frozenset()):
  """Runs the pipeline; returns (shard_counts {name: records}, skipped, metrics),
  or None for a --dry_run (the job graph built and validated, nothing run).

  Raises Beam's ValueError for pipeline options it cannot use (e.g. an unknown
  runner) before any work.
  """
  options = check_options(config, pipeline_args)
  std_logging.getLogger(WORKER_LOG_FORWARDER).setLevel(std_logging.WARNING)
  for name in remove_stale_temporaries(config.output_dir):
    logging.info("removed %s left by an interrupted run", name)
  run_id = uuid.uuid4().hex
  skipped_dir = FileSystems.join(config.output_dir, SKIPPED_DIR_PREFIX + run_id)
  temp_dir = FileSystems.join(config.output_dir, BEAM_TEMP_PREFIX + run_id)
  pipeline = beam.Pipeline(options=options)
  build_pipeline(pipeline, files, config, cpu_configs, batch_configs, shard_counts,
                 FileSystems.join(skipped_dir, "skipped"), temp_dir, exclude)
  result = pipeline.run()
  result.wait_until_finish()
  if options.view_as(options_lib.TestOptions).dry_run:
    return None
  skipped = _read_skipped(skipped_dir)
  FileSystems.delete([skipped_dir])
  if FileSystems.exists(temp_dir):  # Empty, or the files of failed attempts.
    FileSystems.delete([temp_dir])
  written = {shard: count_records(FileSystems.join(config.output_dir, shard))
             for shard in shards_lib.all_shards(shard_counts)}
  return written, skipped, _metrics(result)
