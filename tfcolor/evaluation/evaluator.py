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
`StreamingStatistics` in fixed chunks of `FID_CHUNK` images, so no result
depends on `--eval_batch_size` (up to float rounding inside the generator,
which can move an output pixel by one grey level on another batch size).

Writes `model_dir/eval/<split>/<step>.json` (atomically) and
`model_dir/eval/<split>/<step>.png` (line art | hints | output | ground truth
of the first `--grid_rows` examples). One folder per split, so evaluating the
val split never overwrites the test results of the same step.
"""

import dataclasses
import hashlib
import json
import math
import os
import time
from typing import Optional, Tuple

from absl import logging
import numpy as np
import tensorflow as tf

from tfcolor import config as config_lib
from tfcolor import data as tfcolor_data
from tfcolor import io_utils
from tfcolor import visualize
from tfcolor.data import dropped_records
from tfcolor.evaluation import fid as fid_lib
from tfcolor.evaluation import inception
from tfcolor.evaluation import metrics
from tfcolor.serving import model_loading
from tfcolor.training import summaries

REPORT_DIR = "eval"
FID_CHUNK = 50  # Images per Inception call (as `tfcolor.fid`'s default batch).
_LOG_EVERY_BATCHES = 10
# DataConfig fields that do not change the evaluation inputs: the files are
# recorded themselves, the others only concern training or speed.
_DATA_FIELDS_NOT_IN_SETTINGS = ("train_data", "eval_data", "shuffle_buffer",
                                "num_parallel_calls", "deterministic_train_input")


@dataclasses.dataclass(frozen=True)
class EvaluationPlan:
  """What an evaluation will run on, known before any model is built."""

  model_dir: str
  checkpoint: str
  step: Optional[int]
  config: config_lib.ExperimentConfig  # the run's, with the data overrides applied
  files: Tuple[str, ...]
  settings: dict  # everything the numbers depend on besides the weights
  report_path: str
  grid_path: str


def pick_data_overrides(data_config, given_names):
  """The fields of `data_config` whose names are in `given_names`, as a dict.

  CLIs pass the names of the flags the user set, so only those override the run.
  """
  given = set(given_names)
  return {field.name: getattr(data_config, field.name)
          for field in dataclasses.fields(data_config) if field.name in given}


def validate_eval_config(eval_config):
  """Raises ValueError naming the flag for unusable evaluation settings."""
  if eval_config.eval_batch_size < 1:
    raise ValueError(f"--eval_batch_size must be >= 1, got {eval_config.eval_batch_size}")
  if eval_config.max_eval_examples < 0:
    raise ValueError("--max_eval_examples must be >= 0 (0 = all), got "
                     f"{eval_config.max_eval_examples}")
  if eval_config.grid_rows < 0:
    raise ValueError(f"--grid_rows must be >= 0, got {eval_config.grid_rows}")
  if not 0 <= eval_config.hint_region_threshold <= 255:
    raise ValueError("--hint_region_threshold must be a grey level in 0..255, got "
                     f"{eval_config.hint_region_threshold}")
  if not eval_config.split.strip() or os.sep in eval_config.split:
    raise ValueError(f"--split must be a split name such as test, got {eval_config.split!r}")
  return eval_config


def split_files(data_config, eval_config):
  """The sorted TFRecord files to evaluate (see the module docstring)."""
  if eval_config.eval_files:
    return tfcolor_data.resolve_files(eval_config.eval_files, "--eval_files")
  first = data_config.train_data.split(",")[0].strip()
  if not first:
    raise ValueError("the run has no --train_data to find the --split files beside; "
                     "give --eval_files=GLOB")
  pattern = os.path.join(os.path.dirname(first), f"{eval_config.split}-*.tfrecord")
  files = sorted(tf.io.gfile.glob(pattern))
  if not files:
    raise ValueError(f"--split={eval_config.split}: no files match {pattern} (the folder "
                     f"of --train_data={first}); give --eval_files=GLOB, or "
                     "--train_data=GLOB for the data's current location")
  return files


def _apply_data_overrides(config, overrides):
  overrides = dict(overrides or {})
  known = {field.name for field in dataclasses.fields(config_lib.DataConfig)}
  unknown = sorted(set(overrides) - known)
  if unknown:
    raise ValueError(f"data_overrides: unknown DataConfig fields {unknown}")
  if not overrides:
    return config
  for name, value in overrides.items():
    if getattr(config.data, name) != value:
      logging.info("Evaluation overrides the run's --%s=%s with %s", name,
                   getattr(config.data, name), value)
  data = dataclasses.replace(config.data, **overrides)
  return config_lib.validate(dataclasses.replace(config, data=data))


def _settings(data_config, eval_config, files, keras_weights):
  data = {name: value for name, value in config_lib.to_dict(data_config).items()
          if name not in _DATA_FIELDS_NOT_IN_SETTINGS}
  settings = {"split": eval_config.split, "files": list(files),
              "max_eval_examples": eval_config.max_eval_examples,
              "fid_inception": eval_config.fid_inception,
              "hint_region_threshold": eval_config.hint_region_threshold,
              "data": data}
  if eval_config.fid_inception == inception.KERAS_LABEL:
    settings["fid_keras_weights"] = str(keras_weights)
  return json.loads(json.dumps(settings))  # as it reads back from the report


def plan_evaluation(model_dir, eval_config, data_overrides=None,
                    keras_weights="imagenet"):
  """Resolves the checkpoint, step, data settings, files and output paths.

  Cheap: reads config.json and the checkpoint index, globs the files; builds
  no model. Raises ValueError (or FileNotFoundError) naming the flag.
  """
  validate_eval_config(eval_config)
  config = _apply_data_overrides(model_loading.read_config(model_dir), data_overrides)
  checkpoint = model_loading.resolve_checkpoint(model_dir, eval_config.checkpoint)
  step = model_loading.checkpoint_step(checkpoint)
  files = split_files(config.data, eval_config)
  name = str(step) if step is not None else os.path.basename(checkpoint)
  folder = os.path.join(model_dir, REPORT_DIR, eval_config.split)
  return EvaluationPlan(
      model_dir=model_dir, checkpoint=checkpoint, step=step, config=config,
      files=tuple(files), settings=_settings(config.data, eval_config, files, keras_weights),
      report_path=os.path.join(folder, name + ".json"),
      grid_path=os.path.join(folder, name + ".png"))


def read_report(path):
  """A report JSON written by `evaluate`, or None if there is none (or it is unreadable)."""
  if not tf.io.gfile.exists(path):
    return None
  try:
    with tf.io.gfile.GFile(path) as f:
      report = json.load(f)
  except (json.JSONDecodeError, UnicodeDecodeError) as error:
    logging.warning("%s: unreadable evaluation report (%s); evaluating again", path, error)
    return None
  return report if isinstance(report, dict) else None


def reusable_report(plan):
  """The existing report for the plan's step and settings, or None."""
  report = read_report(plan.report_path)
  if report is None:
    return None
  if report.get("step") != plan.step or report.get("settings") != plan.settings:
    logging.info("%s was written for other settings or another step; evaluating again",
                 plan.report_path)
    return None
  return report


class _InceptionStatistics:
  """Feature statistics of uint8 images fed in fixed chunks of FID_CHUNK.

  Fixed chunks make the statistics identical whatever batches the images
  arrive in (Inception's float results can differ between batch sizes).
  """

  def __init__(self, extractor):
    self._extractor = extractor
    self._pending = []
    self.statistics = fid_lib.StreamingStatistics()

  def add(self, images):
    self._pending.extend(images)
    while len(self._pending) >= FID_CHUNK:
      self._flush(FID_CHUNK)

  def _flush(self, count):
    chunk, self._pending = self._pending[:count], self._pending[count:]
    self.statistics.update(self._extractor(np.stack(chunk) if _same_shape(chunk)
                                           else chunk))

  def finish(self):
    if self._pending:
      self._flush(len(self._pending))
    return self.statistics


def _same_shape(images):
  return len({image.shape for image in images}) == 1


class _InputFingerprint:
  """sha256 of every example's key, image, line art and hints, in order."""

  def __init__(self):
    self._hash = hashlib.sha256()

  def add(self, keys, images, lineart, hints):
    for key, *arrays in zip(keys, images, lineart, hints):
      self._hash.update(len(key).to_bytes(4, "little") + key)
      for array in arrays:
        array = np.ascontiguousarray(array, np.float32)
        self._hash.update(np.asarray(array.shape, np.int64).tobytes() + array.tobytes())

  def hexdigest(self):
    return self._hash.hexdigest()


def _mean(values):
  """Mean of the finite values (NaN marks skipped examples), or None."""
  values = [value for value in values if not math.isnan(value)]
  return math.fsum(values) / len(values) if values else None


_PER_EXAMPLE = ("psnr", "ssim", "pixel_error", "region_error",
                "ground_truth_pixel_error", "ground_truth_region_error")


class _Scores:
  """Everything gathered over the evaluated examples, batch by batch."""

  def __init__(self, eval_config, feature_extractor):
    self._threshold = eval_config.hint_region_threshold
    self._grid_rows = eval_config.grid_rows
    self._extractor = feature_extractor
    self.count = 0
    self.per_example = {name: [] for name in _PER_EXAMPLE}
    self.fingerprint = _InputFingerprint()
    self.grid_rows = []
    self.real_stats = self.fake_stats = None
    if feature_extractor is not None:
      self.real_stats = _InceptionStatistics(feature_extractor)
      self.fake_stats = _InceptionStatistics(feature_extractor)

  def add(self, batch, output):
    """`batch`: numpy arrays of one batch; `output`: the generator's, in [-1, 1]."""
    fake, real = visualize.to_uint8(output), visualize.to_uint8(batch["image"])
    hints, lineart = batch["hints"], batch["lineart"]
    scores = self.per_example
    scores["psnr"].extend(metrics.psnr(fake, real))
    scores["ssim"].extend(metrics.ssim(fake, real))
    for prefix, images in (("", fake), ("ground_truth_", real)):
      scores[prefix + "pixel_error"].extend(metrics.hint_pixel_error(images, hints))
      scores[prefix + "region_error"].extend(
          metrics.hint_region_error(images, hints, lineart, self._threshold))
    self.fingerprint.add(batch["key"], batch["image"], lineart, hints)
    if self.real_stats is not None:
      self.real_stats.add(list(real))
      self.fake_stats.add(list(fake))
    for index in range(min(len(fake), self._grid_rows - len(self.grid_rows))):
      self.grid_rows.append({"lineart": lineart[index], "hints": hints[index],
                             "output": output[index], "image": batch["image"][index]})
    self.count += len(fake)

  def fid(self, label):
    """(FID or None, comparable_with_papers or None)."""
    if self.real_stats is None:
      return None, None
    comparable = bool(self._extractor.comparable_with_papers)
    if self.count < 2:
      logging.warning("FID skipped: it needs at least 2 examples, have %d", self.count)
      return None, comparable
    real, fake = self.real_stats.finish().result(), self.fake_stats.finish().result()
    value = fid_lib.frechet_distance(real.mu, real.sigma, fake.mu, fake.sigma)
    logging.info("FID %.4f on %d real and %d generated images (%s; %s)", value,
                 real.num, fake.num, label, "comparable with papers" if comparable
                 else "NOT comparable with published FIDs")
    if self.count < 2048:
      logging.warning("FID from %d images (< 2048, the feature size) is biased upward; "
                      "use a few thousand for numbers worth comparing", self.count)
    return value, comparable

  def hint_fidelity(self):
    fidelity = {name: _mean(self.per_example[name]) for name in _PER_EXAMPLE[2:]}
    without_hints = sum(math.isnan(v) for v in self.per_example["pixel_error"])
    fidelity.update(
        examples_with_hints=self.count - without_hints,
        examples_with_hinted_regions=sum(
            not math.isnan(v) for v in self.per_example["region_error"]),
        examples_without_hints=without_hints)
    return fidelity


def _grid(rows):
  """The evaluation grid of the collected rows that share the first row's size."""
  size = rows[0]["image"].shape
  kept = [row for row in rows if row["image"].shape == size]
  if len(kept) < len(rows):
    logging.info("Evaluation grid: %d of %d examples have another size than the first "
                 "and are left out", len(rows) - len(kept), len(rows))
  stacked = {name: np.stack([row[name] for row in kept]) for name in kept[0]}
  return summaries.sample_grid(stacked["lineart"], stacked["hints"], stacked["output"],
                               stacked["image"])


def _make_colorize_fn(generator):
  @tf.function(reduce_retracing=True)
  def colorize(lineart, hints):
    return tf.cast(generator({"lineart": lineart, "hints": hints}, training=False),
                   tf.float32)

  return colorize


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
  plan = plan_evaluation(model_dir, eval_config, data_overrides, keras_weights)
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
  colorize = _make_colorize_fn(model_loading.load_generator(
      model_dir, plan.checkpoint).generator)

  scores = _Scores(eval_config, feature_extractor)
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
      "psnr": _mean(scores.per_example["psnr"]),
      "ssim": _mean(scores.per_example["ssim"]),
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
