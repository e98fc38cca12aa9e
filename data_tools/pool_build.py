"""The process-pool builder (--runner=local): this machine, resumable shard by shard.

Worker processes (pool_workers.py) decode and run the CPU extractors; the main
process runs the batched (neural) extractors and writes each shard, in key
order, under a temporary name, renamed when complete and then marked done
(shards.py). The shard of each key is shards.shard_for's, as in the Beam build,
so both write the same files.
"""

import collections
import dataclasses
import os
import time

from absl import logging

from data_tools import build_report
from data_tools import image_steps
from data_tools import shards as shards_lib
from data_tools.build_config import LOCAL_RUNNER
from data_tools.pool_workers import OrderedResults
from tfcolor import io_utils
from tfcolor.data import shard_sets

_FORMAT_VERSION = 1  # Bump when the record content changes for the same settings.
_PROGRESS_SECONDS = 5.0


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


def _plan_shards(files, config):
  """{shard name: [(key, path, size)] in key order} over every shard of every split."""
  fractions = (config.train_fraction, config.val_fraction, config.test_fraction)
  counts = shards_lib.shards_per_split(config.num_shards, fractions)
  plan = {shard: [] for shard in shards_lib.all_shards(counts)}
  for key, path, size in sorted(files):
    plan[shards_lib.shard_for(key, fractions, counts)].append((key, path, size))
  return plan


def build(config, extractor_configs, extractors, files, excluded, pipeline_args):
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
  superseded = shard_sets.superseded_shards(
      build_report.read_previous_report(config.output_dir), plan)
  stray = build_report.stray_files(config.output_dir, plan, superseded)

  worker_configs = {k: extractor_configs[k] for k in worker_kinds}
  tasks = ((key, path) for shard in todo for key, path, _ in plan[shard])
  progress = _Progress(sum(len(plan[shard]) for shard in todo))
  worker_seconds = collections.Counter()
  worker_images = collections.Counter()
  if todo:
    with OrderedResults(tasks, config, worker_configs, keep_rgb=bool(main)) as results:
      for shard in todo:
        markers[shard] = _write_shard(config, shard, plan[shard], fingerprints[shard],
                                      results, main, progress, worker_seconds,
                                      worker_images)
    progress.update("done", force=True)

  # Only now that the new set is complete: a failed build keeps the old one.
  replaced = build_report.remove_superseded(config.output_dir, superseded)
  runs = {}
  for kind in extractors:
    if kind in worker_kinds:
      runs[kind] = ("worker processes", worker_images[kind], worker_seconds[kind])
    else:
      runs[kind] = ("main process", main.images[kind], main.seconds[kind])
  report = build_report.make_report(
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
  io_utils.atomic_write_json(os.path.join(config.output_dir, build_report.REPORT_NAME),
                             report)
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
