"""Every benchmark in one run, each in its own process, written as docs/performance.md.

  python -m tfcolor.benchmarks.performance --out=docs/performance.md [--size=256]

Runs, one process each (so no figure inherits another's memory or threads):
the machine's peaks (`peaks`, first and last), the training input pipeline,
generator inference per precision (`model_speed`), the training step per
precision (`train_step`), every deployment variant (`deployment`, itself one
process per variant) and the studio round trip (`studio`). Each step's JSON
goes to a temporary folder; the page puts every speed beside the float32 and
bfloat16 peaks of the same run, with the load average before each step and
the command that reproduces it. About 20 minutes on 2 quiet cores at the
default sizes (default widths at 256: 512 costs 4x per call and more memory).
"""

import dataclasses
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

from absl import app, flags, logging

from tfcolor import cli
from tfcolor import flags as tfcolor_flags
from tfcolor import io_utils
from tfcolor.config import field


@dataclasses.dataclass(frozen=True)
class PerformanceSettings:
  """This command's settings (each field is also its flag)."""

  out: str = field("docs/performance.md", "The page to write.")
  size: int = field(256, "Image side of the model benchmarks (default widths).")
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
      "deployment": ["tfcolor.benchmarks.deployment", f"--size={size}",
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


def _peaks(results):
  """(float32, bfloat16) matmul GFLOP/s: the mean of the start and end measurements."""
  found = [r["figures"] for key, r in results.items()
           if key.startswith("peaks") and r["figures"]]
  if not found:
    return None, None
  mean = lambda name: sum(f[name] for f in found) / len(found)
  return mean("matmul_float32"), mean("matmul_bfloat16")


def _of_peaks(gflops_per_s, peaks):
  f32, bf16 = peaks
  if not f32:
    return "n/a"
  return f"{100 * gflops_per_s / f32:.0f}% / {100 * gflops_per_s / bf16:.0f}%"


def render_page(settings, results, started):
  """The markdown page."""
  peaks = _peaks(results)
  lines = [
      "# Performance: every benchmark in one run",
      "",
      f"Written by `python -m tfcolor.benchmarks.performance --out={settings.out}"
      f" --size={settings.size} --repeats={settings.repeats}` on {started:%Y-%m-%d %H:%M} UTC, "
      f"{os.cpu_count()} CPUs ({_cpu_name()}), Python {platform.python_version()}. "
      "Each step ran in its own process; the load average (1 min) before each "
      "step is given beside it, so a figure taken under load reads as an upper "
      "bound. Default (paper) widths, random weights, batch 1, "
      f"{settings.size}x{settings.size} unless noted (512 costs 4x per call, "
      "so the whole run fits in about 20 minutes).",
      "",
      "## Machine peaks (TensorFlow, same run)",
      "",
      "| measured | matmul f32 | matmul bf16 | conv3x3 f32 | conv3x3 bf16 | load |",
      "| --- | --- | --- | --- | --- | --- |",
  ]
  for key in ("peaks_start", "peaks_end"):
    result = results.get(key)
    if result and result["figures"]:
      f = result["figures"]
      lines.append(f"| {key[6:]} | {f['matmul_float32']:.0f} | {f['matmul_bfloat16']:.0f} "
                   f"| {f['conv3x3_float32']:.0f} | {f['conv3x3_bfloat16']:.0f} "
                   f"| {result['load']:.2f} |")
  lines += ["", "GFLOP/s: a 2048^3 matmul and a 3x3 conv 512->512 channels at 64x64. "
            "Below, `% of peaks` = achieved GFLOP/s over the mean float32 / bfloat16 "
            "matmul peak.", ""]
  lines += _model_rows(results, peaks)
  lines += _train_rows(results, peaks)
  lines += _deployment_rows(results, peaks)
  lines += _pipeline_rows(results)
  lines += _studio_rows(results)
  lines += ["## Commands", "", "Each step alone (add `--json_out=FILE` for JSON):", "",
            "```"]
  lines += [f"{r['command']}" for r in results.values()]
  lines += ["```", ""]
  failed = [f"- {key}: {r['error']}" for key, r in results.items() if r["error"]]
  if failed:
    lines += ["## Steps that failed", ""] + failed + [""]
  return "\n".join(lines)


def _cpu_name():
  try:
    with open("/proc/cpuinfo", encoding="utf-8") as f:
      for line in f:
        if line.startswith("model name"):
          return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or "unknown CPU"


def _figures(results, key):
  result = results.get(key)
  return (result["figures"], result) if result and result["figures"] else (None, result)


def _model_rows(results, peaks):
  if not {"model_speed_float32", "model_speed_bfloat16"} & set(results):
    return []
  lines = ["## Generator inference (`model_speed`)", "",
           "| precision | size | s/image | GFLOPs | GFLOP/s | % of peaks f32 / bf16 | load |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
  for precision in ("float32", "bfloat16"):
    figures, result = _figures(results, f"model_speed_{precision}")
    for row in (figures or {}).get("rows", []):
      lines.append(f"| {precision} | {row['size']} | {row['median_s']:.3f} | "
                   f"{row['gflops']:.0f} | {row['achieved_gflops_per_s']:.0f} | "
                   f"{_of_peaks(row['achieved_gflops_per_s'], peaks)} | "
                   f"{result['load']:.2f} |")
  return lines + ["", "bfloat16: the generator built under `mixed_bfloat16` (the VGG "
                  "hint encoder and the tanh head stay float32).", ""]


def _train_rows(results, peaks):
  if not {"train_step_float32", "train_step_bfloat16"} & set(results):
    return []
  lines = ["## Training step (`train_step`: 1 D + 1 G update)", "",
           "| precision | model | size | batch | s/iter | GFLOP/s | % of peaks f32 / bf16 "
           "| load |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
  for precision in ("float32", "bfloat16"):
    figures, result = _figures(results, f"train_step_{precision}")
    for name, row in (figures or {}).items():
      lines.append(f"| {precision} | {name} | {row['size']} | {row['batch_size']} | "
                   f"{row['median_s']:.3f} | {row['achieved_gflops_per_s']:.0f} | "
                   f"{_of_peaks(row['achieved_gflops_per_s'], peaks)} | "
                   f"{result['load']:.2f} |")
  return lines + [""]


def _deployment_rows(results, peaks):
  if "deployment" not in results:
    return []
  figures, result = _figures(results, "deployment")
  speed, _ = _figures(results, "model_speed_float32")
  gflops = speed["rows"][0]["gflops"] if speed and speed.get("rows") else None
  lines = ["## Deployment variants (`deployment`, one process per variant)", "",
           "| variant | median s | x saved_model speed | GFLOP/s | % of peaks f32 / bf16 "
           "| MB | export s | peak RSS GB |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
  rows = (figures or {}).get("results", {})
  reference = rows.get("saved_model", {}).get("median_s")
  for name, row in rows.items():
    ratio = f"{reference / row['median_s']:.2f}" if reference else "n/a"
    rate = gflops / row["median_s"] if gflops else None
    lines.append(f"| {name} | {row['median_s']:.3f} | {ratio} | "
                 f"{f'{rate:.0f}' if rate else 'n/a'} | "
                 f"{_of_peaks(rate, peaks) if rate else 'n/a'} | {row['mb']:.0f} | "
                 f"{row['export_s']:.0f} | {row['peak_rss_gb']:.1f} |")
  if result:
    lines += ["", f"Load before the step: {result['load']:.2f}. GFLOP/s from the "
              "generator's FLOPs at this size (`model_speed`); int8 variants do "
              "integer work, so theirs is nominal."]
  return lines + [""]


def _pipeline_rows(results):
  if "input_pipeline" not in results:
    return []
  figures, result = _figures(results, "input_pipeline")
  lines = ["## Training input pipeline (`input_pipeline`)", "",
           "| parallel calls | images/s | images/CPU-s | load |", "| --- | --- | --- | --- |"]
  for row in (figures or {}).get("rows", []):
    calls = "AUTOTUNE" if row["parallel_calls"] == -1 else row["parallel_calls"]
    lines.append(f"| {calls} | {row['images_per_s']:.1f} | {row['images_per_cpu_s']:.1f} "
                 f"| {result['load']:.2f} |")
  if figures:
    lines += ["", f"{figures['image_size']}-px {figures['image_format']} records -> "
              f"{figures['crop_size']} crops, batch {figures['batch_size']}."]
  return lines + [""]


def _studio_rows(results):
  if "studio" not in results:
    return []
  figures, result = _figures(results, "studio")
  lines = ["## Studio round trip (`studio`, demo widths, 512x512)", ""]
  if figures:
    lines += ["| model call s | studio round trip s | studio with an instant model s "
              "| load |", "| --- | --- | --- | --- |",
              f"| {figures['model_s']:.3f} | {figures['studio_s']:.3f} | "
              f"{figures['instant_model_studio_s']:.3f} | {result['load']:.2f} |"]
  return lines + [""]


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
                                  render_page(settings, results, started).encode())
  print(f"wrote {settings.out} ({sum(r['seconds'] for r in results.values()) / 60:.1f} min)")


if __name__ == "__main__":
  tfcolor_flags.define_dataclass_flags(PerformanceSettings)
  flags.adopt_module_key_flags(tfcolor_flags)
  cli.run(main)
