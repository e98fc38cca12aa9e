"""The paper's Table 1 for your runs: evaluate each, then one Markdown table.

`write_table(table_config, eval_config)` is the library entry point of
`python -m tfcolor.table`. Each run is evaluated with
`tfcolor.evaluation.evaluator.evaluate`, or its existing report
(`model_dir/eval/<split>/<step>.json`) is reused when it was written for the
same step and the same evaluation settings (files, data settings, FID
Inception, ...); `--reevaluate` always evaluates. One Inception network serves
all runs. TensorFlow is imported on first use, so the CLI reports bad flags
at once.

Rows are in the paper's order, labelled by the run's `--generator`
(`PAPER_TABLE1`), with the paper's FID beside ours; a generator the paper does
not have gets its run folder's name as label and "—" as paper FID. Below the
table, notes say which Inception computed the FIDs and whether they are
comparable with the paper's, give the ground truth's hint errors on the same
inputs (the floor), and warn when the rows were scored on different inputs.
"""

import dataclasses
import os
from typing import Tuple

from absl import logging

from tfcolor import io_utils
from tfcolor.config import field

# generator -> (row label, FID in the paper's Table 1), in the paper's row order.
PAPER_TABLE1 = {
    "pix2pixhd": ("pix2pixHD", 14.59),
    "ci2018": ("Ci et al.", 18.04),
    "resnet": ("Ours w/o module", 13.91),
    "csa": ("Ours", 9.96),
}
PAPER_SOURCE = ("Yuan & Simo-Serra, CVPRW 2021, Table 1: Danbooru2019 test set, 2015 "
                "Inception graph")
COLUMNS = ("Method", "FID (paper)", "FID (ours)", "PSNR", "SSIM", "Hint error, pixels",
           "Hint error, regions", "Examples", "Step")
MISSING = "—"


@dataclasses.dataclass(frozen=True)
class TableConfig:
  """What `python -m tfcolor.table` compares and where it writes the table."""

  model_dirs: Tuple[str, ...] = field(
      (), "Training runs to compare (one per row), comma separated.")
  output: str = field("", "Also write the Markdown table to this file ('' = print only).")
  reevaluate: bool = field(
      False, "Evaluate every run again even if a report for its step and these "
      "settings exists.")


def evaluate_or_reuse(model_dir, eval_config, data_overrides=None, reevaluate=False,
                      feature_extractor_fn=None, keras_weights="imagenet"):
  """A run's report: the existing one for the same step and settings, else a new one.

  `feature_extractor_fn()` returns the shared Inception extractor; it is only
  called when the run is evaluated.
  """
  # TensorFlow loads here, not when the CLI defines its flags.
  # pylint: disable=import-outside-toplevel
  from tfcolor.evaluation import evaluator
  from tfcolor.evaluation import plan as plan_lib
  if not reevaluate:
    plan = plan_lib.plan_evaluation(model_dir, eval_config, data_overrides, keras_weights)
    report = plan_lib.reusable_report(plan)
    if report is not None:
      logging.info("%s: reusing %s", model_dir, plan.report_path)
      return report
  extractor = feature_extractor_fn() if (feature_extractor_fn and
                                         eval_config.fid_inception) else None
  return evaluator.evaluate(model_dir, eval_config, data_overrides,
                            feature_extractor=extractor, keras_weights=keras_weights)


def _label(report):
  generator = report.get("generator")
  if generator in PAPER_TABLE1:
    return PAPER_TABLE1[generator][0]
  return os.path.basename(os.path.normpath(report["model_dir"]))


def _order(report):
  generators = list(PAPER_TABLE1)
  generator = report.get("generator")
  return generators.index(generator) if generator in generators else len(generators)


def _format(value, digits):
  return MISSING if value is None else f"{value:.{digits}f}"


def _row(label, report):
  paper = PAPER_TABLE1.get(report.get("generator"), (None, None))[1]
  hints = report["hint_fidelity"]
  return [label, _format(paper, 2), _format(report["fid"], 2), _format(report["psnr"], 2),
          _format(report["ssim"], 4), _format(hints["pixel_error"], 1),
          _format(hints["region_error"], 1), str(report["num_examples"]),
          MISSING if report["step"] is None else str(report["step"])]


def _markdown_row(cells):
  return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"


def _notes(reports):
  first = reports[0]
  notes = [f"FID (paper): {PAPER_SOURCE}."]
  inceptions = sorted({report["fid_inception"] for report in reports})
  if inceptions == [""]:
    notes.append("FID (ours): not computed (--fid_inception was empty).")
  else:
    comparable = all(report["comparable_with_papers"] for report in reports)
    notes.append(
        f"FID (ours): Inception {', '.join(repr(i) for i in inceptions)} on the "
        f"{first['split']} split; "
        + ("comparable with the paper's figures (same 2015 Inception graph)."
           if comparable else
           "NOT comparable with the paper's figures (not the 2015 Inception graph "
           "of the reference FID code)."))
  notes.append("PSNR (dB) and SSIM (11x11 Gaussian, sigma 1.5) against the ground "
               "truth on uint8 RGB. Hint errors: mean RGB distance (0-255) to the hint "
               "colour on hinted pixels, and to each hinted paper region's mean hint "
               "colour over the region (docs/evaluation.md).")
  floors = {(report["hint_fidelity"]["ground_truth_pixel_error"],
             report["hint_fidelity"]["ground_truth_region_error"]) for report in reports}
  if len(floors) == 1:
    pixels, regions = floors.pop()
    notes.append(f"The ground truth itself scores {_format(pixels, 1)} (pixels) and "
                 f"{_format(regions, 1)} (regions) on the same hints: the floor.")
  if len({report["inputs_sha256"] for report in reports}) > 1:
    notes.append("WARNING: the rows were scored on different inputs (files, data "
                 "settings or example count differ); their numbers are not comparable.")
  return notes


def format_table(reports):
  """Markdown: header, separator, one row per report in the paper's order, notes."""
  if not reports:
    raise ValueError("format_table needs at least one evaluation report")
  ordered = sorted(reports, key=_order)  # stable: same generators keep their order
  labels = [_label(report) for report in ordered]
  duplicated = {label for label in labels if labels.count(label) > 1}
  lines = [_markdown_row(COLUMNS),
           "|" + "|".join([":---"] + ["---:"] * (len(COLUMNS) - 1)) + "|"]
  for label, report in zip(labels, ordered):
    if label in duplicated:
      label = f"{label} ({os.path.basename(os.path.normpath(report['model_dir']))})"
    lines.append(_markdown_row(_row(label, report)))
  lines.append("")
  lines.extend(_notes(ordered))
  return "\n".join(lines) + "\n"


def write_table(table_config, eval_config, data_overrides=None, keras_weights="imagenet"):
  """Evaluates (or reuses) every run, writes the table if asked; returns its text."""
  model_dirs = [d for d in table_config.model_dirs if d]
  if not model_dirs:
    raise ValueError("--model_dirs is empty: give the training runs to compare, "
                     "comma separated")
  if eval_config.checkpoint:
    raise ValueError("--checkpoint names one run's checkpoint; the table evaluates each "
                     "run's latest (use tfcolor.evaluate for a given checkpoint)")
  extractors = []

  def feature_extractor_fn():  # built once, and only if a run needs evaluating
    if not extractors:
      # pylint: disable-next=import-outside-toplevel
      from tfcolor.evaluation import inception
      extractors.append(inception.create_feature_extractor(
          eval_config.fid_inception, keras_weights=keras_weights))
    return extractors[0]

  reports = [dict(evaluate_or_reuse(model_dir, eval_config, data_overrides,
                                    table_config.reevaluate, feature_extractor_fn,
                                    keras_weights), model_dir=model_dir)
             for model_dir in model_dirs]
  text = format_table(reports)
  if table_config.output:
    io_utils.atomic_write_bytes(table_config.output, text.encode("utf-8"))
    logging.info("Wrote %s", table_config.output)
  return text
