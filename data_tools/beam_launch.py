"""The launcher of the Beam build: runs the pipeline (beam_build.py), then fixes up
the output folder and writes the report.

Imported only when Beam runs, so a --runner=local build never imports Beam.
"""

import os
import time

from absl import logging

from data_tools import beam_build
from data_tools import build_report
from data_tools import images as images_lib
from data_tools import shards as shards_lib
from tfcolor.data import shard_sets


def build(config, extractor_configs, extractors, files, excluded, pipeline_args):
  """The Beam pipeline (data_tools/beam_build.py), then the report (None after
  a --dry_run).

  files: [(key, path, size)] without the `excluded` keys, or None to list
  the input in the pipeline, dropping the entries of the set `excluded` there.
  """
  start = time.monotonic()
  fractions = (config.train_fraction, config.val_fraction, config.test_fraction)
  shard_counts = shards_lib.shards_per_split(config.num_shards, fractions)
  cpu_kinds = [k for k, e in extractors.items() if e.runs_in_worker_processes]
  configs = {kind: extractor_configs.get(kind) for kind in extractors}
  listed_here = files is not None
  previous_report = (None if images_lib.is_url(config.output_dir)
                     else build_report.read_previous_report(config.output_dir))
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
    replaced = build_report.remove_superseded(config.output_dir, superseded)
    stray = build_report.stray_files(config.output_dir, written, superseded)
  seconds = time.monotonic() - start
  runs = {}
  for kind in extractors:
    images, microseconds = metrics.get(f"us {kind}", (0, 0))
    runs[kind] = ("Beam workers" if kind in cpu_kinds else "Beam workers, batched",
                  images, microseconds / 1e6)
  processed = metrics.get("images processed", 0)
  report = build_report.make_report(
      config, num_files, written, skipped, excluded, extractors, runs, stray, {
          "runner": config.runner or beam_build.LOCAL_BEAM_RUNNER,
          "shards_written": sorted(written), "shards_reused": [],
          "images_processed": processed, "seconds": round(seconds, 3),
          "images_per_second": round(processed / max(seconds, 1e-9), 2)})
  report["replaced_shards"] = replaced
  beam_build.write_json(os.path.join(config.output_dir, build_report.REPORT_NAME),
                        report)
  return report
