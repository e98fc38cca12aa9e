"""OUT/report.json of a build, and the bookkeeping of the build it replaces.

Both runners report the same way: counts per split and shard, every skipped
file with its reason, the settings, the extractors' speeds and this run's
figures; and both delete the shards of the build they supersede (named by its
report, never a glob) and list TFRecords in the folder that no build made.
"""

import collections
import dataclasses
import json
import os

from absl import logging

from data_tools import shards as shards_lib

REPORT_NAME = "report.json"


def read_previous_report(output_dir):
  """The report.json of the build already in `output_dir`, or None."""
  try:
    with open(os.path.join(output_dir, REPORT_NAME), encoding="utf-8") as f:
      report = json.load(f)
  except (OSError, ValueError):
    return None
  return report if isinstance(report, dict) else None


def remove_superseded(output_dir, superseded):
  """Deletes the shards of the build this one replaces; returns their names."""
  replaced = shards_lib.remove_shards(output_dir, superseded)
  if replaced:
    logging.info("removed %d shards of the build this one replaces (listed in the "
                 "earlier %s): %s", len(replaced), REPORT_NAME, replaced)
  return replaced


def stray_files(output_dir, shards, superseded):
  """TFRecords in `output_dir` that neither this build nor the one it replaces made."""
  stray = sorted(name for name in os.listdir(output_dir)
                 if name.endswith(".tfrecord") and name not in shards
                 and name not in superseded and not name.startswith("."))
  if stray:
    logging.warning("%s holds TFRecords this build does not make (other "
                    "--num_shards or fractions?): %s. A glob over the folder would "
                    "read them too.", output_dir, stray)
  return stray


def _rate(images, seconds):
  return round(images / seconds, 2) if seconds > 0 else None


def make_report(config, num_files, shard_counts, skipped, excluded, extractors, runs,
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
