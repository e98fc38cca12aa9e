"""Evaluates a trained run on a split: FID, PSNR, SSIM and hint fidelity.

`evaluate(model_dir, eval_config)` is the library entry point of
`python -m tfcolor.evaluate` and of the table (`tfcolor.evaluation.table`).

What is evaluated, and on what:
- The generator and its architecture come from the run: `model_dir/config.json`
  and a checkpoint (`--checkpoint`, default the latest), through
  `tfcolor.serving.model_loading.load_generator`.
- The data settings (crop size, eval mode, line art kinds, hint sampling) are
  the run's too, so a run is scored on the inputs it was trained for.
  `data_overrides` (a dict of `DataConfig` fields; the CLIs pass the data flags
  given on the command line or in a flagfile) replace single settings, e.g. a
  new `--train_data` location or `--eval_mode=full`. Rows of one table should
  use the same settings: `inputs_sha256` in the report tells whether they did.
- Files: `--eval_files` if given, else `<split>-*.tfrecord` in the folder of
  the run's first `--train_data` glob (the layout `data_tools.build_tfrecords`
  writes). `--eval_data` is the trainer's sample-grid data and is not used.
- Batches come from `tfcolor.data.make_eval_dataset`: files in order, centre
  crops, and line art kind and hints seeded from each example's key, so every
  run and every model sees identical inputs. `inputs_sha256` hashes them (keys,
  images, line art, hints) to make that checkable.

Outputs are rounded to uint8 as the export does (`tfcolor.visualize.to_uint8`);
every metric is computed on uint8 RGB (`tfcolor.evaluation.metrics`) and
averaged over examples. FID compares the real images with the outputs through
Inception pool3 features (`tfcolor.evaluation.inception`), streamed into two
`StreamingStatistics` in fixed chunks of `scores.FID_CHUNK` images, so no result
depends on `--eval_batch_size` (up to float rounding inside the generator,
which can move an output pixel by one grey level on another batch size).

Writes `model_dir/eval/<split>/<step>.json` (atomically) and
`model_dir/eval/<split>/<step>.png` (line art | hints | output | ground truth
of the first `--grid_rows` examples). One folder per split, so evaluating the
val split never overwrites the test results of the same step.

Modules: `plan` (what is evaluated, report reuse), `scores` (what is gathered
per batch), this one (the loop and the report).
"""

import time

from absl import logging
import numpy as np
import tensorflow as tf

from tfcolor import data as tfcolor_data
from tfcolor import io_utils
from tfcolor import visualize
from tfcolor.data import dropped_records
from tfcolor.evaluation import inception
from tfcolor.evaluation import plan as plan_lib
from tfcolor.evaluation import scores as scores_lib
from tfcolor.models.generator_inputs import make_colorize_fn
from tfcolor.serving import model_loading

_LOG_EVERY_BATCHES = 10


def _grid(rows):
  """The evaluation grid of the collected rows that share the first row's size."""
  size = rows[0]["image"].shape
  kept = [row for row in rows if row["image"].shape == size]
  if len(kept) < len(rows):
    logging.info("Evaluation grid: %d of %d examples have another size than the first "
                 "and are left out", len(rows) - len(kept), len(rows))
  stacked = {name: np.stack([row[name] for row in kept]) for name in kept[0]}
  return visualize.sample_grid(stacked["lineart"], stacked["hints"], stacked["output"],
                               stacked["image"])


def _count_skipped_records(data_config, files):
  """(records, records without the run's line art kinds); raises above the limit."""
  records, skipped = tfcolor_data.count_dropped_records(data_config, list(files))
  if skipped:
    logging.warning("Skipping %d of %d records: no line art of --lineart_kinds=%s",
                    skipped, records, ",".join(data_config.lineart_kinds))
  if dropped_records.too_many(records, skipped, data_config.max_dropped_fraction):
    raise ValueError(
        f"{skipped} of {records} records have no line art of --lineart_kinds="
        f"{','.join(data_config.lineart_kinds)}: more than --max_dropped_fraction="
        f"{data_config.max_dropped_fraction:g}; evaluate with the kinds the split was "
        "built with, or raise --max_dropped_fraction")
  return records, skipped


def evaluate(model_dir, eval_config, data_overrides=None,
             feature_extractor=None, keras_weights="imagenet"):
  """Evaluates a run's checkpoint and writes its report and grid.

  Args:
    model_dir: a training run's folder (config.json, checkpoints/).
    eval_config: `tfcolor.config.EvalConfig`.
    data_overrides: dict of `DataConfig` fields that replace the run's.
    feature_extractor: an Inception extractor already built for
      `eval_config.fid_inception` (the table shares one across runs); built
      here from `fid_inception` and `keras_weights` when None.
    keras_weights: weights of `--fid_inception=keras` (None = random; tests).

  Returns:
    The report dict (also written to `model_dir/eval/<split>/<step>.json`).
  """
  plan = plan_lib.plan_evaluation(model_dir, eval_config, data_overrides, keras_weights)
  data_config = plan.config.data
  logging.info("Evaluating %s (generator %s, step %s) on %d files of split %s",
               plan.checkpoint, plan.config.model.generator, plan.step, len(plan.files),
               eval_config.split)
  records, skipped = _count_skipped_records(data_config, plan.files)
  dataset = tfcolor_data.make_eval_dataset(data_config, eval_config.eval_batch_size,
                                           files=list(plan.files))
  if not eval_config.fid_inception:
    logging.info("FID skipped: --fid_inception is empty")
    feature_extractor = None
  elif feature_extractor is None:
    feature_extractor = inception.create_feature_extractor(
        eval_config.fid_inception, keras_weights=keras_weights)
  colorize = make_colorize_fn(model_loading.load_generator(
      model_dir, plan.checkpoint).generator)

  scores = scores_lib.Scores(eval_config, feature_extractor)
  limit = eval_config.max_eval_examples or None
  start = time.perf_counter()
  timed_start, timed_count = None, 0  # the first batch traces: not timed
  for batches, batch in enumerate(dataset, 1):
    if limit is not None and scores.count >= limit:
      break
    take = len(batch["key"]) if limit is None else min(len(batch["key"]),
                                                       limit - scores.count)
    batch = {name: value[:take].numpy() for name, value in batch.items()}
    output = colorize(tf.constant(batch["lineart"]), tf.constant(batch["hints"])).numpy()
    scores.add(batch, output)
    if timed_start is None:
      timed_start = time.perf_counter()
    else:
      timed_count += take
    if batches % _LOG_EVERY_BATCHES == 0:
      rate = timed_count / max(time.perf_counter() - timed_start, 1e-9)
      logging.info("Evaluated %d examples (%.1f examples/s)", scores.count, rate)
  seconds = time.perf_counter() - start
  if not scores.count:
    raise ValueError(f"no examples with line art of --lineart_kinds="
                     f"{','.join(data_config.lineart_kinds)} in {list(plan.files)}")
  fid_value, comparable = scores.fid(eval_config.fid_inception)

  grid_path = None
  if scores.grid_rows:
    visualize.save_png(plan.grid_path, _grid(scores.grid_rows))
    grid_path = plan.grid_path
  fid_count = scores.count if feature_extractor is not None else None
  report = {
      "model_dir": model_dir,
      "generator": plan.config.model.generator,
      "step": plan.step,
      "checkpoint": plan.checkpoint,
      "split": eval_config.split,
      "files": list(plan.files),
      "num_examples": scores.count,
      "records_read": records,
      "records_skipped": skipped,
      "fid": fid_value,
      "fid_inception": eval_config.fid_inception,
      "comparable_with_papers": comparable,
      "fid_num_real": fid_count,
      "fid_num_fake": fid_count,
      "psnr": scores_lib.mean(scores.per_example["psnr"]),
      "ssim": scores_lib.mean(scores.per_example["ssim"]),
      "hint_fidelity": scores.hint_fidelity(),
      "inputs_sha256": scores.fingerprint.hexdigest(),
      "settings": plan.settings,
      "eval_batch_size": eval_config.eval_batch_size,
      "grid": grid_path,
      "seconds": seconds,
      "examples_per_second": (timed_count / max(seconds - (timed_start - start), 1e-9)
                              if timed_count else None),
  }
  io_utils.atomic_write_json(plan.report_path, report)
  logging.info("Wrote %s: %s", plan.report_path, summary_line(report))
  return report


def _number(value, digits):
  return "n/a" if value is None else f"{value:.{digits}f}"


def summary_line(report):
  """One line with a report's main numbers, for logs and the CLI."""
  hints = report["hint_fidelity"]
  fid_text = "FID skipped" if report["fid"] is None and not report["fid_inception"] else (
      f"FID {_number(report['fid'], 3)} ({report['fid_inception']}, "
      f"{'comparable' if report['comparable_with_papers'] else 'not comparable'} "
      "with papers)")
  skipped = report.get("records_skipped")
  skipped_text = f" ({skipped} records skipped: no line art of the run's kinds)" if skipped else ""
  return (f"step {report['step']}, {report['num_examples']} examples of "
          f"{report['split']}{skipped_text}: {fid_text}, PSNR {_number(report['psnr'], 2)} dB, "
          f"SSIM {_number(report['ssim'], 4)}, hint error pixels "
          f"{_number(hints['pixel_error'], 1)} regions {_number(hints['region_error'], 1)} "
          f"(ground truth {_number(hints['ground_truth_pixel_error'], 1)} / "
          f"{_number(hints['ground_truth_region_error'], 1)})")
