"""The README demo end to end, timed and scored (a benchmark, not a test).

  python -m tfcolor.benchmarks.demo [--work_dir=DIR] [--json_out=FILE]

Runs the README's main command after its install step, as a new user does:
the same CLIs as subprocesses (`DEMO_COMMANDS`; tests/test_benchmark_demo.py
checks that the README runs exactly these), in a temporary folder (or
--work_dir), with `configs/demo.cfg` of this checkout. Then it evaluates the
run on the sample's test split, as the README's "Evaluate a run" says, and
prints the wall time of data (synthesize + build), training and evaluation,
the load average of the machine before and after (the figures are only
comparable on a quiet machine), both hint errors with the ground truth's, and
PSNR. Nothing is asserted: a change that makes the demo slower or worse shows
in these figures.
"""

import dataclasses
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

from absl import app, flags

from tfcolor import cli
from tfcolor import flags as flags_lib
from tfcolor import io_utils
from tfcolor.config import field

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO_FLAGFILE = "configs/demo.cfg"
DEMO_MODEL_DIR = "runs/demo"

# (phase, command) of the README's main command after `pip install`, in order.
DEMO_COMMANDS = (
    ("data", "python -m data_tools.synthesize --output_dir=data/sample/images "
             "--num_images=200 --size=64 --seed=0"),
    ("data", "python -m data_tools.build_tfrecords --input_dir=data/sample/images "
             "--output_dir=data/sample/tfrecords --extractors=xdog --num_shards=4 "
             "--train_fraction=0.8 --val_fraction=0.1 --test_fraction=0.1"),
    ("training", f"python -m tfcolor.train --flagfile={DEMO_FLAGFILE}"),
)
EVAL_COMMAND = ("evaluation", f"python -m tfcolor.evaluate --flagfile={DEMO_FLAGFILE} "
                              f"--model_dir={DEMO_MODEL_DIR} --split=test")


@dataclasses.dataclass
class DemoResult:
  """Figures of one end-to-end run of the demo."""

  seconds: dict  # phase -> wall seconds
  load_before: tuple  # os.getloadavg() before the first command
  load_after: tuple
  report: dict  # the evaluation report (tfcolor.evaluation.evaluator)

  def figures(self):
    hints = self.report["hint_fidelity"]
    return {"seconds": self.seconds, "load_before": self.load_before,
            "load_after": self.load_after, "step": self.report["step"],
            "examples": self.report["num_examples"], "psnr": self.report["psnr"],
            "ssim": self.report["ssim"], "pixel_error": hints["pixel_error"],
            "region_error": hints["region_error"],
            "ground_truth_pixel_error": hints["ground_truth_pixel_error"],
            "ground_truth_region_error": hints["ground_truth_region_error"]}


def _argv(command, python):
  """A command's argv: `python` is this interpreter, the flagfile this checkout's."""
  flagfile = f"--flagfile={DEMO_FLAGFILE}"
  words = command.split()
  return [python] + [f"--flagfile={os.path.join(REPO_ROOT, DEMO_FLAGFILE)}"
                     if word == flagfile else word for word in words[1:]]


def run_demo(work_dir, python=sys.executable, train_flags=(), log=print):
  """Runs the demo's commands in `work_dir`; returns a DemoResult.

  Args:
    work_dir: an empty (or new) folder; data/ and runs/ are made inside.
    python: the interpreter that runs the CLIs.
    train_flags: extra flags for the training and evaluation commands (e.g. a
      shorter --train_steps for a quick check).
    log: called with a line per finished command.

  Raises:
    RuntimeError naming the command and its last output lines if one fails.
  """
  os.makedirs(work_dir, exist_ok=True)
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(
      filter(None, [REPO_ROOT, os.environ.get("PYTHONPATH")])))
  seconds = {}
  load_before = os.getloadavg()
  for phase, command in DEMO_COMMANDS + (EVAL_COMMAND,):
    argv = _argv(command, python)
    if phase in ("training", "evaluation"):
      argv += list(train_flags)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=work_dir, env=env, capture_output=True, text=True,
                          check=False)
    elapsed = time.perf_counter() - start
    if done.returncode:
      tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
      raise RuntimeError(f"demo command failed (exit {done.returncode}): "
                         f"{' '.join(argv)}\n{tail}")
    seconds[phase] = seconds.get(phase, 0.0) + elapsed
    log(f"{elapsed:7.1f} s  {command}")
  reports = glob.glob(os.path.join(work_dir, DEMO_MODEL_DIR, "eval", "test", "*.json"))
  with open(max(reports, key=os.path.getmtime), encoding="utf-8") as report_file:
    report = json.load(report_file)
  return DemoResult(seconds=seconds, load_before=load_before,
                    load_after=os.getloadavg(), report=report)


def format_figures(figures):
  """Lines for people: wall times, load, hint errors and PSNR."""
  seconds = figures["seconds"]
  load = lambda values: "/".join(f"{v:.1f}" for v in values)
  return [
      f"wall time: data {seconds['data']:.1f} s, training {seconds['training']:.1f} s, "
      f"evaluation {seconds['evaluation']:.1f} s (load average 1/5/15 min before "
      f"{load(figures['load_before'])}, after {load(figures['load_after'])}; "
      f"{os.cpu_count()} CPUs)",
      f"test split, step {figures['step']}, {figures['examples']} examples: hint error "
      f"regions {figures['region_error']:.1f} (ground truth "
      f"{figures['ground_truth_region_error']:.1f}), pixels {figures['pixel_error']:.1f} "
      f"(ground truth {figures['ground_truth_pixel_error']:.1f}), PSNR "
      f"{figures['psnr']:.2f} dB, SSIM {figures['ssim']:.4f}",
  ]


@dataclasses.dataclass(frozen=True)
class DemoBenchmarkSettings:
  """The flags of `python -m tfcolor.benchmarks.demo`."""

  work_dir: str = field("", "Run here and keep the files ('' = a temporary folder, "
                        "deleted afterwards).")
  json_out: str = field("", "Also write the figures here as JSON.")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  settings = flags_lib.dataclass_from_flags(DemoBenchmarkSettings)
  with tempfile.TemporaryDirectory(prefix="tfcolor_demo_") as temp_dir:
    result = run_demo(settings.work_dir or temp_dir)
    figures = result.figures()
    for line in format_figures(figures):
      print(line)
    if settings.json_out:
      io_utils.atomic_write_json(settings.json_out, figures)


if __name__ == "__main__":
  flags_lib.define_dataclass_flags(DemoBenchmarkSettings)
  flags.adopt_module_key_flags(flags_lib)  # Listed by --help.
  cli.run(main)
