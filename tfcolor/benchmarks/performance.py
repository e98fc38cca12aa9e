"""Every benchmark in one run, each in its own process, written as docs/performance.md.

  python -m tfcolor.benchmarks.performance --out=docs/performance.md [--size=256]

Runs, one process each (so no figure inherits another's memory or threads):
the machine's peaks (`peaks`, first and last), the training input pipeline,
generator inference per precision (`model_speed`), the training step per
precision (`train_step`), every deployment variant (`deployment`, itself one
process per variant) and the studio round trip (`studio`). Each step's JSON
goes to a temporary folder; the page (`performance_page`) puts every speed beside the float32 and
bfloat16 peaks of the same run, with the load average before each step and
the command that reproduces it. About 30 minutes on 2 quiet cores at the
default sizes: the model benchmarks at 256 (default widths; 512 costs 4x per
call and more memory), the deployment variants at 512, the size of issue 14's
goals.
"""

import dataclasses
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

from absl import app, flags, logging

from tfcolor import cli
from tfcolor import flags as tfcolor_flags
from tfcolor import io_utils
from tfcolor.benchmarks import performance_page
from tfcolor.config import field


@dataclasses.dataclass(frozen=True)
class PerformanceSettings:
  """This command's settings (each field is also its flag)."""

  out: str = field("docs/performance.md", "The page to write.")
  size: int = field(256, "Image side of the model benchmarks (default widths).")
  deployment_size: int = field(
      512, "Image side of the deployment variants (issue 14's goals are at 512).")
  repeats: int = field(3, "Timed calls per figure.")
  steps: tuple[str, ...] = field(
      ("peaks_start", "input_pipeline", "model_speed_float32", "model_speed_bfloat16",
       "train_step_float32", "train_step_bfloat16", "deployment", "studio",
       "peaks_end"), "Steps to run (names as in the default).")


def step_commands(settings):
  """{step name: module arguments} (each run as `python -m tfcolor.benchmarks.X ...`)."""
  size, repeats = settings.size, settings.repeats
  speed = ["tfcolor.benchmarks.model_speed", f"--sizes={size}", f"--repeats={repeats}"]
  train = ["tfcolor.benchmarks.train_step", f"--size={size}", "--batch_size=1",
           "--repeats=2"]
  return {
      "peaks_start": ["tfcolor.benchmarks.peaks"],
      "input_pipeline": ["tfcolor.benchmarks.input_pipeline", "--num_images=32",
                         "--num_batches=10", "--warmup_batches=3",
                         "--parallel_calls=1,-1"],
      "model_speed_float32": speed + ["--mixed_precision=none"],
      "model_speed_bfloat16": speed + ["--mixed_precision=mixed_bfloat16"],
      "train_step_float32": train + ["--mixed_precision=none"],
      "train_step_bfloat16": train + ["--mixed_precision=mixed_bfloat16"],
      "deployment": ["tfcolor.benchmarks.deployment", f"--size={settings.deployment_size}",
                     f"--repeats={repeats}"],
      "studio": ["tfcolor.benchmarks.studio", "--flagfile=configs/demo.cfg",
                 "--size=512", f"--repeats={repeats}"],
      "peaks_end": ["tfcolor.benchmarks.peaks"],
  }


def run_step(name, module_args, folder):
  """Runs one benchmark process; returns {figures, seconds, load, command, error}."""
  json_path = os.path.join(folder, f"{name}.json")
  command = [sys.executable, "-m", *module_args, f"--json_out={json_path}"]
  load = os.getloadavg()[0]
  logging.info("%s: %s (load %.2f)", name, " ".join(module_args), load)
  start = time.perf_counter()
  done = subprocess.run(command, capture_output=True, text=True, check=False)
  result = {"seconds": time.perf_counter() - start, "load": load,
            "command": "python -m " + " ".join(module_args), "figures": None,
            "error": None}
  if done.returncode or not os.path.exists(json_path):
    last = (done.stderr.strip().splitlines() or ["no output"])[-1]
    result["error"] = f"exit {done.returncode}: {last}"
    logging.warning("%s failed: %s", name, result["error"])
  else:
    with open(json_path, encoding="utf-8") as f:
      result["figures"] = json.load(f)
  return result


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  settings = tfcolor_flags.dataclass_from_flags(PerformanceSettings)
  commands = step_commands(settings)
  unknown = sorted(set(settings.steps) - set(commands))
  if unknown:
    raise app.UsageError(f"--steps: unknown {unknown}; known: {list(commands)}")
  started = datetime.datetime.now(datetime.timezone.utc)
  results = {}
  with tempfile.TemporaryDirectory(prefix="tfcolor_performance_") as folder:
    for name in settings.steps:
      results[name] = run_step(name, commands[name], folder)
      logging.info("%s: %.0f s", name, results[name]["seconds"])
      # After every step, so an interrupted run still leaves the figures it took.
      io_utils.atomic_write_bytes(settings.out,
                                  performance_page.render_page(settings, results, started).encode())
  print(f"wrote {settings.out} ({sum(r['seconds'] for r in results.values()) / 60:.1f} min)")


if __name__ == "__main__":
  tfcolor_flags.define_dataclass_flags(PerformanceSettings)
  flags.adopt_module_key_flags(tfcolor_flags)
  cli.run(main)
