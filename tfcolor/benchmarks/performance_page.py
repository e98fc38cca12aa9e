"""The performance page: every benchmark's figures from one run, beside the machine's peaks.

`performance.py` runs the steps; this module only turns their JSON (step name ->
{figures, seconds, load, command, error}) into markdown, so the page can be
re-rendered or tested without running a benchmark. A step that did not run has
no section; one that failed is listed with its error.
"""

import os
import platform


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
      f" --size={settings.size} --deployment_size={settings.deployment_size}"
      f" --repeats={settings.repeats}` on {started:%Y-%m-%d %H:%M} UTC, "
      f"{os.cpu_count()} CPUs ({_cpu_name()}), Python {platform.python_version()}. "
      "Each step ran in its own process; the load average (1 min) before each "
      "step is given beside it, so a figure taken under load reads as an upper "
      "bound. Default (paper) widths, random weights, batch 1, "
      f"{settings.size}x{settings.size} unless noted (512 costs 4x per call; "
      f"the deployment variants run at {settings.deployment_size}x"
      f"{settings.deployment_size}).",
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
  size = (figures or {}).get("size")
  speed, _ = _figures(results, "model_speed_float32")
  gflops = None
  if size and speed and speed.get("rows"):  # A fully convolutional model: FLOPs ~ pixels.
    row = speed["rows"][0]
    gflops = row["gflops"] * (size / row["size"]) ** 2
  lines = [f"## Deployment variants (`deployment`, {size}x{size}, one process per variant)",
           "",
           "| variant | median s | x saved_model speed | GFLOP/s | % of peaks f32 / bf16 "
           "| MB | export s | peak RSS GB: variant / conversion |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
  rows = (figures or {}).get("results", {})
  reference = rows.get("saved_model", {}).get("median_s")
  for name, row in rows.items():
    ratio = f"{reference / row['median_s']:.2f}" if reference else "n/a"
    rate = gflops / row["median_s"] if gflops else None
    own = row.get("own_peak_rss_gb", row["peak_rss_gb"])
    conversion = row.get("conversion_peak_rss_gb")
    memory = f"{own:.1f} / {conversion:.1f}" if conversion is not None else f"{own:.1f} / -"
    lines.append(f"| {name} | {row['median_s']:.3f} | {ratio} | "
                 f"{f'{rate:.0f}' if rate else 'n/a'} | "
                 f"{_of_peaks(rate, peaks) if rate else 'n/a'} | {row['mb']:.0f} | "
                 f"{row['export_s']:.0f} | {memory} |")
  if result:
    lines += ["", f"Load before the step: {result['load']:.2f}. GFLOP/s from the "
              "generator's FLOPs (`model_speed`'s, scaled to this size); int8 variants do "
              "integer work, so theirs is nominal. Peak RSS: the variant's own process "
              "(export, then loading and timing the model: for TFLite the LiteRT "
              "interpreter and XNNPack's packed weights) and, for TFLite, the "
              "conversion's child process (`tflite_process`), which is the export's peak."]
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
