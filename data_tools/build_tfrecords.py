r"""Builds sharded TFRecords (image + line art kinds) from a folder of illustrations.

  python -m data_tools.build_tfrecords --input_dir=DIR --output_dir=OUT \
      --extractors=xdog --num_shards=8 [--runner=DataflowRunner --project=... ...]

By default an Apache Beam pipeline (data_tools/beam_build.py) on this machine,
one worker process per core; flags that are not the builder's go to Beam as
pipeline options (Dataflow, Flink, Spark). `--runner=local` runs the builder's
own process pool instead, which resumes a killed run shard by shard. Both call
the per-image steps of image_steps.py. `OUT/report.json` lists counts, every
skipped file with its reason, and the settings. Details: docs/data.md.
"""

import collections
import concurrent.futures
import dataclasses
import json
import multiprocessing
import os
import time
from typing import Tuple

from absl import app, flags, logging

from data_tools import image_steps
from data_tools import images as images_lib
from data_tools import shards as shards_lib
from data_tools.extractors import CONFIGS, KINDS, create_extractor
from data_tools.extractors import configs as extractor_configs_lib
from tfcolor import cli
from tfcolor import flags as flags_lib
from tfcolor import io_utils
from tfcolor.config import field
from tfcolor.data import shard_sets

REPORT_NAME = "report.json"
LOCAL_RUNNER = "local"  # --runner: the builder's own process pool, not Beam.
_FORMAT_VERSION = 1  # Bump when the record content changes for the same settings.
_PROGRESS_SECONDS = 5.0


@dataclasses.dataclass(frozen=True)
class BuildConfig:
  """What the dataset builder reads, how it filters and resizes, what it writes."""

  input_dir: str = field("", "Folder of illustrations (PNG, JPEG, WebP; nested).")
  output_dir: str = field("", "Folder for the TFRecord shards and report.json.")
  extractors: Tuple[str, ...] = field(
      ("xdog",), f"Line art kinds to write, from {list(KINDS)}.")
  num_shards: int = field(
      8, "TFRecord files of the train split; val and test get shards in proportion "
      "to their fraction of train (at least one each).")
  train_fraction: float = field(0.98, "Share of keys in the train split (paper: 98%).")
  val_fraction: float = field(0.01, "Share of keys in the val split.")
  test_fraction: float = field(0.01, "Share of keys in the test split.")
  min_side: int = field(
      0, "Upscale images whose shorter side is below this to it (0 = never).")
  max_side: int = field(
      0, "Downscale images whose shorter side is above this to it (0 = never); "
      "Danbooru as in the paper: --min_side=768 --max_side=768.")
  min_source_side: int = field(
      64, "Skip images whose shorter side is below this many pixels before resizing.")
  min_colorfulness: float = field(
      15.0, "Skip images whose Hasler-Süsstrunk colourfulness is below this "
      "(greyscale = 0; 15 = their 'slightly colourful'); 0 keeps everything.")
  exclude_keys: str = field(
      "", "Text file of keys to skip, one a line ('#' comments): a key, the key "
      "without extension, or a bare file name stem (e.g. a Danbooru id).")
  image_format: str = field(
      "png", "Encoding of the `image` feature (png is lossless).",
      images_lib.IMAGE_FORMATS)
  jpeg_quality: int = field(95, "JPEG quality when --image_format=jpeg.")
  num_workers: int = field(
      0, "Worker processes (0 = one per CPU core; 1 = all in the main process).")
  extract_chunk_size: int = field(
      32, "Images handed at once to each main-process (neural) extractor.")
  runner: str = field(
      "", "'' = Apache Beam on this machine (DirectRunner, --num_workers processes); "
      "'local' = the builder's own process pool (resumes shard by shard); or a Beam "
      "runner (DataflowRunner, FlinkRunner, SparkRunner, ...). Other Beam pipeline "
      "options go on the same command line (docs/data.md).")


def validate_build_config(config):
  """Raises ValueError naming the flag for settings that cannot work."""
  if not config.input_dir:
    raise ValueError("--input_dir is required")
  if not images_lib.is_url(config.input_dir) and not os.path.isdir(config.input_dir):
    raise ValueError(f"--input_dir={config.input_dir} is not a folder")
  if not config.output_dir:
    raise ValueError("--output_dir is required")
  io_utils.check_writable_folder(config.output_dir, "--output_dir")
  if not config.extractors:
    raise ValueError("--extractors needs at least one line art kind")
  if len(set(config.extractors)) != len(config.extractors):
    raise ValueError(f"--extractors lists a kind twice: {list(config.extractors)}")
  fractions = (config.train_fraction, config.val_fraction, config.test_fraction)
  if any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
    raise ValueError("--train_fraction, --val_fraction and --test_fraction must be "
                     f">= 0 and sum to 1, got {fractions}")
  if config.num_shards < 1:
    raise ValueError(f"--num_shards must be >= 1, got {config.num_shards}")
  if config.min_side < 0 or config.max_side < 0 or config.min_source_side < 0:
    raise ValueError("--min_side, --max_side and --min_source_side must be >= 0")
  if config.min_side and config.max_side and config.min_side > config.max_side:
    raise ValueError(f"--min_side={config.min_side} is above "
                     f"--max_side={config.max_side}")
  if config.image_format not in images_lib.IMAGE_FORMATS:
    raise ValueError(f"--image_format must be one of {images_lib.IMAGE_FORMATS}")
  if not 1 <= config.jpeg_quality <= 100:
    raise ValueError(f"--jpeg_quality must be in 1..100, got {config.jpeg_quality}")
  if config.num_workers < 0:
    raise ValueError(f"--num_workers must be >= 0, got {config.num_workers}")
  if config.extract_chunk_size < 1:
    raise ValueError("--extract_chunk_size must be >= 1")
  if config.runner == LOCAL_RUNNER and (images_lib.is_url(config.input_dir)
                                       or images_lib.is_url(config.output_dir)):
    raise ValueError("--runner=local reads and writes local folders only; give a "
                     "Beam runner for gs:// or s3:// paths")
  if config.exclude_keys and not os.path.isfile(config.exclude_keys):
    raise ValueError(f"--exclude_keys={config.exclude_keys} is not a file")
  return config


# ---------------------------------------------------------------------------
# Input files.


def list_images(input_dir):
  """[(key, path, size_in_bytes)] of every image under `input_dir`, sorted by key.

  The key is the path relative to `input_dir` with '/' separators. (A URL,
  gs://..., is listed inside the Beam pipeline instead.)
  """
  found = []
  for root, dirs, names in os.walk(input_dir):
    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
    for name in names:
      if name.startswith(".") or not name.lower().endswith(images_lib.IMAGE_EXTENSIONS):
        continue
      path = os.path.join(root, name)
      key = os.path.relpath(path, input_dir).replace(os.sep, "/")
      try:
        size = os.path.getsize(path)
      except OSError:  # A broken link: the worker reports it as unreadable.
        size = -1
      found.append((key, path, size))
  return sorted(found)


def is_image_key(key):
  """An image file name outside hidden folders ('/'-separated key)."""
  return (key.lower().endswith(images_lib.IMAGE_EXTENSIONS)
          and not any(part.startswith(".") for part in key.split("/")))


def read_exclude_keys(path):
  """The set of entries of an exclude file (blank lines and '#' comments ignored)."""
  if not path:
    return frozenset()
  with open(path, encoding="utf-8") as f:
    entries = (line.split("#", 1)[0].strip() for line in f)
    return frozenset(entry for entry in entries if entry)


def is_excluded(key, exclude):
  """A key is excluded by itself, by itself without extension, or by its stem."""
  without_extension = os.path.splitext(key)[0]
  stem = without_extension.rsplit("/", 1)[-1]
  return key in exclude or without_extension in exclude or stem in exclude


# ---------------------------------------------------------------------------
# Per-image work (worker processes; no TensorFlow here).


class ImageProcessor:
  """One file -> image_steps.process_file's result, with this process's extractors."""

  def __init__(self, config, worker_extractor_configs, keep_rgb):
    self.config = config
    self.extractors = {kind: create_extractor(kind, extractor_config)
                       for kind, extractor_config in worker_extractor_configs.items()}
    self.keep_rgb = keep_rgb

  def __call__(self, key, path):
    return image_steps.process_file(key, path, self.config, self.extractors,
                                    self.keep_rgb)


_worker_processor = None


def _init_worker(config, worker_extractor_configs, keep_rgb):
  global _worker_processor  # pylint: disable=global-statement
  _worker_processor = ImageProcessor(config, worker_extractor_configs, keep_rgb)


def _process_in_worker(task):
  return _worker_processor(*task)


class _OrderedResults:
  """ImageProcessor results in task order, computed ahead in worker processes.

  The pool starts (and the first tasks go out) on `__enter__`, so workers are
  busy while the main process imports TensorFlow for the first shard. At most
  `4 * num_workers` results wait in memory.
  """

  def __init__(self, tasks, config, worker_extractor_configs, keep_rgb):
    self._tasks = iter(tasks)
    self._processor_args = (config, worker_extractor_configs, keep_rgb)
    self._num_workers = config.num_workers or os.cpu_count() or 1
    self._executor = None
    self._pending = collections.deque()
    self._processor = None

  def __enter__(self):
    if self._num_workers == 1:
      self._processor = ImageProcessor(*self._processor_args)
      return self
    # "spawn": the main process may already hold TensorFlow's threads, which a
    # forked child must not inherit; spawned workers import only this module.
    self._executor = concurrent.futures.ProcessPoolExecutor(
        self._num_workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker, initargs=self._processor_args)
    self._fill()
    return self

  def __exit__(self, *exc_info):
    if self._executor is not None:
      self._executor.shutdown(wait=True, cancel_futures=True)

  def _fill(self):
    while len(self._pending) < 4 * self._num_workers:
      task = next(self._tasks, None)
      if task is None:
        return
      self._pending.append((task, self._executor.submit(_process_in_worker, task)))

  def next(self):
    if self._processor is not None:
      return self._processor(*next(self._tasks))
    (key, path), future = self._pending.popleft()
    try:
      result = future.result()
    except concurrent.futures.BrokenExecutor:  # A worker died...
      raise RuntimeError(
          f"a worker process died (out of memory, or a decoder crash) around {path}; "
          f"finished shards are kept. Add {key!r} to --exclude_keys, or run with "
          "--num_workers=1 to find the file, and run again.") from None
    self._fill()
    return result


# ---------------------------------------------------------------------------
# Main-process extractors and progress.


class _MainProcessExtractors:
  """Runs the batched (neural) extractors on buffered results of one shard."""

  def __init__(self, extractors, chunk_size):
    self.extractors = extractors
    self.chunk_size = chunk_size
    self.seconds = collections.Counter()
    self.images = collections.Counter()

  def __bool__(self):
    return bool(self.extractors)

  def add_lineart(self, results):
    """Adds each kind's line art to `results`; returns (complete, skipped)."""
    for kind in self.extractors:
      self.images[kind] += len(results)
    return image_steps.add_batch_linearts(results, self.extractors, self.seconds)


class _Progress:
  """Logs counts and rate every few seconds."""

  def __init__(self, total):
    self.total = total
    self.done = self.written = self.skipped = 0
    self.start = self.last = time.monotonic()

  def update(self, shard, written=0, skipped=0, processed=0, force=False):
    self.done += processed
    self.written += written
    self.skipped += skipped
    now = time.monotonic()
    if force or now - self.last >= _PROGRESS_SECONDS:
      self.last = now
      rate = self.rate()
      remaining = (self.total - self.done) / rate if rate > 0 else float("inf")
      logging.info("%s: %d/%d images processed, %d written, %d skipped, "
                   "%.1f images/s, %.0f s to go", shard, self.done, self.total,
                   self.written, self.skipped, rate, remaining)

  def elapsed(self):
    return time.monotonic() - self.start

  def rate(self):
    return self.done / max(self.elapsed(), 1e-9)


# ---------------------------------------------------------------------------
# The build.


def _record_settings(config, extractor_configs):
  """Everything that changes the bytes of a record (not paths, not workers)."""
  return {
      "format_version": _FORMAT_VERSION,
      "fractions": [config.train_fraction, config.val_fraction, config.test_fraction],
      "min_side": config.min_side, "max_side": config.max_side,
      "min_source_side": config.min_source_side,
      "min_colorfulness": config.min_colorfulness,
      "image_format": config.image_format,
      "jpeg_quality": config.jpeg_quality if config.image_format == "jpeg" else None,
      # Batch sizes change speed, not line art: they may differ on a resumed run.
      "extractors": {kind: {name: value for name, value in dataclasses.asdict(c).items()
                            if not name.endswith("_batch_size")}
                     for kind, c in extractor_configs.items()},
  }


def _read_previous_report(output_dir):
  """The report.json of the build already in `output_dir`, or None."""
  try:
    with open(os.path.join(output_dir, REPORT_NAME), encoding="utf-8") as f:
      report = json.load(f)
  except (OSError, ValueError):
    return None
  return report if isinstance(report, dict) else None


def _plan_shards(files, config):
  """{shard name: [(key, path, size)]} over every shard of every split."""
  fractions = (config.train_fraction, config.val_fraction, config.test_fraction)
  counts = shards_lib.shards_per_split(config.num_shards, fractions)
  plan = {shards_lib.shard_name(split, index, count): []
          for split, count in counts.items() for index in range(count)}
  for key, path, size in files:
    split = shards_lib.split_of(key, fractions)
    index = shards_lib.shard_of(key, counts[split])
    plan[shards_lib.shard_name(split, index, counts[split])].append((key, path, size))
  return plan


def build_dataset(config, extractor_configs=None, pipeline_args=()):
  """Builds the TFRecord dataset; returns the report (also OUT/report.json).

  Args:
    config: a BuildConfig; `config.runner` picks Beam (default: this machine,
      every core) or the process pool ('local').
    extractor_configs: {kind: config dataclass} for the kinds in
      `config.extractors`; missing kinds use their defaults.
    pipeline_args: Beam pipeline options (e.g. ['--project=p',
      '--temp_location=gs://b/tmp']); unused by the pool.
  """
  validate_build_config(config)
  extractor_configs = {kind: (extractor_configs or {}).get(kind) or CONFIGS[kind]()
                       for kind in config.extractors if kind in CONFIGS}
  # Fail before any work if a kind is unknown or cannot run (e.g. no weights).
  extractors = {kind: create_extractor(kind, extractor_configs.get(kind))
                for kind in config.extractors}
  exclude = read_exclude_keys(config.exclude_keys)
  if images_lib.is_url(config.input_dir):  # Listed by the workers (beam_build.KeyFiles).
    report = _build_with_beam(config, extractor_configs, extractors, None, exclude,
                              pipeline_args)
    if report is None:
      return None
  else:
    files = list_images(config.input_dir)
    if not files:
      raise ValueError(
          f"--input_dir={config.input_dir} holds no PNG, JPEG or WebP files")
    excluded = [key for key, _, _ in files if is_excluded(key, exclude)]
    excluded_set = set(excluded)
    files = [f for f in files if f[0] not in excluded_set]
    build = _build_with_pool if config.runner == LOCAL_RUNNER else _build_with_beam
    report = build(config, extractor_configs, extractors, files, excluded,
                   pipeline_args)
  for kind, entry in report["extractors"].items():
    if entry["images"]:
      logging.info("line art %s (%s): %d images this run, %s images/s per process",
                   kind, entry["runs_in"], entry["images"], entry["images_per_second"])
  logging.info("dataset: %d examples (train %d, val %d, test %d), %d files skipped; "
               "report: %s",
               report["num_examples"],
               *(report["splits"].get(s, {}).get("examples", 0)
                 for s in shards_lib.SPLITS),
               len(report["skipped"]), os.path.join(config.output_dir, REPORT_NAME))
  return report


def _build_with_beam(config, extractor_configs, extractors, files, excluded,
                     pipeline_args):
  """The Beam pipeline (data_tools/beam_build.py), then the report (None after
  a --dry_run).

  files: [(key, path, size)] without the `excluded` keys, or None to list
  the input in the pipeline, dropping the entries of the set `excluded` there.
  """
  from data_tools import beam_build  # pylint: disable=import-outside-toplevel

  start = time.monotonic()
  fractions = (config.train_fraction, config.val_fraction, config.test_fraction)
  shard_counts = shards_lib.shards_per_split(config.num_shards, fractions)
  cpu_kinds = [k for k, e in extractors.items() if e.runs_in_worker_processes]
  configs = {kind: extractor_configs.get(kind) for kind in extractors}
  listed_here = files is not None
  previous_report = (None if images_lib.is_url(config.output_dir)
                     else _read_previous_report(config.output_dir))
  logging.info("Beam build of %s: line art %s (one image at a time: %s; batched: %s)",
               f"{len(files)} files ({len(excluded)} excluded)" if listed_here
               else config.input_dir, list(config.extractors), cpu_kinds,
               [k for k in extractors if k not in cpu_kinds])
  outcome = beam_build.run(
      config, [(key, path) for key, path, _ in files] if listed_here else None,
      {k: c for k, c in configs.items() if k in cpu_kinds},
      {k: c for k, c in configs.items() if k not in cpu_kinds}, shard_counts,
      pipeline_args, exclude=frozenset() if listed_here else frozenset(excluded))
  if outcome is None:
    logging.info("dry run: the pipeline was built and validated; nothing ran")
    return None
  written, skipped, metrics = outcome
  if listed_here:
    num_files = len(files) + len(excluded)
  else:  # The pipeline listed the files and reported the excluded ones as skipped.
    num_files, excluded = metrics.get("files listed", 0), []
  replaced, stray = [], []
  if not images_lib.is_url(config.output_dir):
    for shard in written:  # The pool's markers describe the files Beam replaced.
      if os.path.exists(shards_lib.done_path(config.output_dir, shard)):
        os.remove(shards_lib.done_path(config.output_dir, shard))
    superseded = shard_sets.superseded_shards(previous_report, written)
    replaced = _remove_superseded(config.output_dir, superseded)
    stray = _stray_files(config.output_dir, written, superseded)
  seconds = time.monotonic() - start
  runs = {}
  for kind in extractors:
    images, microseconds = metrics.get(f"us {kind}", (0, 0))
    runs[kind] = ("Beam workers" if kind in cpu_kinds else "Beam workers, batched",
                  images, microseconds / 1e6)
  processed = metrics.get("images processed", 0)
  report = _report(config, num_files, written, skipped, excluded,
                   extractors, runs, stray, {
                       "runner": config.runner or beam_build.LOCAL_BEAM_RUNNER,
                       "shards_written": sorted(written), "shards_reused": [],
                       "images_processed": processed, "seconds": round(seconds, 3),
                       "images_per_second": round(processed / max(seconds, 1e-9), 2)})
  report["replaced_shards"] = replaced
  beam_build.write_json(os.path.join(config.output_dir, REPORT_NAME), report)
  return report


def _remove_superseded(output_dir, superseded):
  replaced = shards_lib.remove_shards(output_dir, superseded)
  if replaced:
    logging.info("removed %d shards of the build this one replaces (listed in the "
                 "earlier %s): %s", len(replaced), REPORT_NAME, replaced)
  return replaced


def _stray_files(output_dir, shards, superseded):
  """TFRecords in `output_dir` that neither this build nor the one it replaces made."""
  stray = sorted(name for name in os.listdir(output_dir)
                 if name.endswith(".tfrecord") and name not in shards
                 and name not in superseded and not name.startswith("."))
  if stray:
    logging.warning("%s holds TFRecords this build does not make (other "
                    "--num_shards or fractions?): %s. A glob over the folder would "
                    "read them too.", output_dir, stray)
  return stray


def _build_with_pool(config, extractor_configs, extractors, files, excluded,
                     pipeline_args):
  """The process pool of this machine (--runner=local): resumable shard by shard."""
  del pipeline_args  # Beam's.
  worker_kinds = [k for k, e in extractors.items()
                  if e.runs_in_worker_processes]
  main = _MainProcessExtractors(
      {k: e for k, e in extractors.items() if k not in worker_kinds},
      config.extract_chunk_size)
  logging.info("writing line art kinds %s (in worker processes: %s; batched in the "
               "main process: %s)", list(config.extractors), worker_kinds,
               list(main.extractors))
  plan = _plan_shards(files, config)

  os.makedirs(config.output_dir, exist_ok=True)
  for name in shards_lib.remove_stale_temporaries(config.output_dir):
    logging.info("removed %s left by an interrupted run", name)
  settings = _record_settings(config, extractor_configs)
  fingerprints = {shard: shards_lib.fingerprint(
      settings, shard, [[key, size] for key, _, size in shard_files])
                  for shard, shard_files in plan.items()}
  markers = {shard: shards_lib.read_done(config.output_dir, shard, fingerprints[shard])
             for shard in plan}
  todo = [shard for shard in plan if markers[shard] is None]
  logging.info("%d files (%d excluded) in %d shards: %d finished, %d to write",
               len(files) + len(excluded), len(excluded), len(plan),
               len(plan) - len(todo), len(todo))
  superseded = shard_sets.superseded_shards(_read_previous_report(config.output_dir), plan)
  stray = _stray_files(config.output_dir, plan, superseded)

  worker_configs = {k: extractor_configs[k] for k in worker_kinds}
  tasks = ((key, path) for shard in todo for key, path, _ in plan[shard])
  progress = _Progress(sum(len(plan[shard]) for shard in todo))
  worker_seconds = collections.Counter()
  worker_images = collections.Counter()
  if todo:
    with _OrderedResults(tasks, config, worker_configs, keep_rgb=bool(main)) as results:
      for shard in todo:
        markers[shard] = _write_shard(config, shard, plan[shard], fingerprints[shard],
                                      results, main, progress, worker_seconds,
                                      worker_images)
    progress.update("done", force=True)

  # Only now that the new set is complete: a failed build keeps the old one.
  replaced = _remove_superseded(config.output_dir, superseded)
  runs = {}
  for kind in extractors:
    if kind in worker_kinds:
      runs[kind] = ("worker processes", worker_images[kind], worker_seconds[kind])
    else:
      runs[kind] = ("main process", main.images[kind], main.seconds[kind])
  report = _report(
      config, len(files) + len(excluded),
      {shard: marker["num_examples"] for shard, marker in markers.items()},
      [entry for marker in markers.values() for entry in marker["skipped"]],
      excluded, extractors, runs, stray, {
          "runner": LOCAL_RUNNER,
          "shards_written": todo,
          "shards_reused": sorted(set(plan) - set(todo)),
          "images_processed": progress.done,
          "seconds": round(progress.elapsed(), 3),
          "images_per_second": round(progress.rate(), 2),
      })
  report["replaced_shards"] = replaced
  io_utils.atomic_write_json(os.path.join(config.output_dir, REPORT_NAME), report)
  return report


def _write_shard(config, shard, shard_files, shard_fingerprint, results, main,
                 progress, worker_seconds, worker_images):
  """Consumes this shard's results, writes and commits it; returns its marker."""
  writer = shards_lib.ShardWriter(config.output_dir, shard)
  skipped, waiting = [], []

  def write(batch):
    for result in batch:
      writer.write(result["key"], result["image"], result["lineart"])
    progress.update(shard, written=len(batch))

  def flush():
    complete, failed = main.add_lineart(waiting)
    skipped.extend(failed)
    progress.update(shard, skipped=len(failed))
    write(complete)
    waiting.clear()

  try:
    for _ in shard_files:
      result = results.next()
      progress.update(shard, processed=1)
      for kind, seconds in result["seconds"].items():
        worker_seconds[kind] += seconds
        worker_images[kind] += 1
      if result["skip"]:
        skipped.append({"key": result["key"], "reason": result["skip"]})
        progress.update(shard, skipped=1)
      elif main:
        waiting.append(result)
        if len(waiting) >= main.chunk_size:
          flush()
      else:
        write([result])
    if waiting:
      flush()
    num_bytes = writer.commit()
  except BaseException:
    writer.abort()
    raise
  marker = {"fingerprint": shard_fingerprint, "num_examples": writer.num_records,
            "num_bytes": num_bytes, "skipped": skipped}
  shards_lib.write_done(config.output_dir, shard, marker)
  logging.info("finished %s: %d examples, %d skipped", shard, writer.num_records,
               len(skipped))
  return marker


def _rate(images, seconds):
  return round(images / seconds, 2) if seconds > 0 else None


def _report(config, num_files, shard_counts, skipped, excluded, extractors, runs,
            stray, this_run):
  """report.json: counts per split and shard, every skipped file, the settings.

  shard_counts: {shard: examples}; skipped: [{key, reason}] of the processed
  files; runs: {kind: (where it ran, images, seconds)}; this_run: its figures.
  """
  splits = {}
  for shard, count in shard_counts.items():
    split = shard.split("-", 1)[0]
    entry = splits.setdefault(split, {"examples": 0, "shards": {}})
    entry["examples"] += count
    entry["shards"][shard] = count
  skipped = sorted([{"key": key, "reason": "excluded: listed in --exclude_keys"}
                    for key in excluded] + list(skipped),
                   key=lambda entry: entry["key"])
  reasons = collections.Counter(entry["reason"].split(":", 1)[0] for entry in skipped)
  extractor_report = {}
  for kind, extractor in extractors.items():
    runs_in, images, seconds = runs[kind]
    extractor_report[kind] = {
        "settings": extractor.settings(), "runs_in": runs_in,
        # Throughput of one process running only this extractor, this run.
        "images": images, "seconds": round(seconds, 3),
        "images_per_second": _rate(images, seconds),
    }
  return {
      "build": dataclasses.asdict(config),
      "num_files": num_files,
      "num_examples": sum(s["examples"] for s in splits.values()),
      "splits": splits,
      "skipped": skipped,
      "skipped_by_reason": dict(sorted(reasons.items())),
      "resize": {"min_side": config.min_side, "max_side": config.max_side,
                 "min_source_side": config.min_source_side},
      "min_colorfulness": config.min_colorfulness,
      "image_format": config.image_format,
      "extractors": extractor_report,
      "stray_files": stray,
      "this_run": this_run,
  }


# ---------------------------------------------------------------------------
# Command line.


def define_flags(flag_values=flags.FLAGS):
  """The builder's flags and every extractor's (e.g. --xdog_sigma)."""
  flags_lib.define_dataclass_flags(BuildConfig, flag_values)
  extractor_configs_lib.define_flags(flag_values)


def configs_from_flags(flag_values=flags.FLAGS):
  """(BuildConfig, {kind: extractor config}) from parsed flags."""
  config = flags_lib.dataclass_from_flags(BuildConfig, flag_values)
  return config, extractor_configs_lib.configs_from_flags(config.extractors, flag_values)


def parse_flags(argv):
  """absl parses the builder's flags; what is left over is Beam's (argv[1:])."""
  return flags.FLAGS(argv, known_only=True)


def main(argv):
  config, extractor_configs = configs_from_flags()
  pipeline_args = argv[1:]
  try:
    validate_build_config(config)
    if config.runner != LOCAL_RUNNER:
      from data_tools import beam_build  # pylint: disable=import-outside-toplevel
      beam_build.check_options(config, pipeline_args)
    elif pipeline_args:
      raise ValueError(f"--runner=local takes no Beam options: {pipeline_args}")
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  build_dataset(config, extractor_configs, pipeline_args)


if __name__ == "__main__":
  # Flags are defined only when run as a program, so importing the library
  # (tests, other tools) does not claim names in the global FLAGS.
  define_flags()
  flags.adopt_module_key_flags(flags_lib)  # List them in --help.
  cli.run(main, flags_parser=parse_flags)
