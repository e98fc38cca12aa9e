"""In-browser latency of a .tflite model (LiteRT.js, WebAssembly) vs the Python interpreter.

  nice -n 10 python -m tfcolor.benchmarks.browser_tflite --tflite=exports/demo.tflite \
      [--height=0 --width=0] [--repeats=5] [--python_threads=0] [--json_out=FILE]

Make the model with `python -m tfcolor.export --model_dir=runs/demo
--tflite=exports/demo.tflite --tflite_size=256`. One line art page of
--height x --width (default: the model's size) with random hints is coloured,
after one untimed call, --repeats times by:

  browser_threaded        LiteRT.js's threaded build (page sent COOP/COEP headers)
  browser_single_threaded LiteRT.js's single-threaded build (no isolation headers)
  python                  tflite_runner.TFLiteColorizer (LiteRT interpreter,
                          --python_threads)

Every figure is the whole colorize call: uint8 in, pre-processing, the model,
post-processing, uint8 out. The browser is Debian's headless Chromium on a
loopback static site (`tfcolor.studio.browser_harness`); LiteRT.js comes
from `npm ci`. Figures are printed with the machine's load average, never
asserted.
"""

import contextlib
import dataclasses
import json
import os
import statistics
import tempfile

from absl import app, flags
import numpy as np

from tfcolor import cli
from tfcolor import flags as flags_lib
from tfcolor.config import field

VARIANTS = ("browser_threaded", "browser_single_threaded", "python")


def random_page(height, width, seed=0):
  """Line art (H, W) uint8 with strokes on white and RGBA hints on 2% of the pixels."""
  rng = np.random.default_rng(seed)
  lineart = np.where(rng.uniform(size=(height, width)) < 0.1, 0, 255).astype(np.uint8)
  hints = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
  hints[..., 3] = np.where(rng.uniform(size=(height, width)) < 0.02, 255, 0)
  return lineart, hints


def _summary(latencies_ms):
  return {"median_ms": statistics.median(latencies_ms), "min_ms": min(latencies_ms),
          "repeats": len(latencies_ms)}


def run_benchmark(tflite_path, height=0, width=0, repeats=5, python_threads=0, browser=None):
  """Times the three VARIANTS on the same model and page; returns a dict of figures.

  `browser`: a playwright Chromium to use (None = launch one).
  """
  # pylint: disable=import-outside-toplevel
  from tfcolor.benchmarks import common
  from tfcolor.serving import tflite_runner
  from tfcolor.studio import browser_harness

  threads = python_threads or os.cpu_count()
  colorizer = tflite_runner.TFLiteColorizer(model_path=tflite_path, num_threads=threads)
  height, width = height or colorizer.size, width or colorizer.size
  lineart, hints = random_page(height, width)
  results = {"model": tflite_path, "model_mb": os.path.getsize(tflite_path) / 1e6,
             "model_size": colorizer.size, "page": [height, width],
             "python_threads": threads, "cpu_count": os.cpu_count(), "variants": {}}
  timing = common.time_call(colorizer.colorize, lineart, hints, warmup=1, repeats=repeats)
  results["variants"]["python"] = {"median_ms": timing.median_s * 1e3,
                                   "min_ms": timing.min_s * 1e3, "repeats": repeats}
  with contextlib.ExitStack() as stack:
    site = stack.enter_context(tempfile.TemporaryDirectory(prefix="tfcolor_browser_bench_"))
    browser_harness.write_site(site, tflite_path)
    browser = browser or stack.enter_context(browser_harness.chromium())
    for variant, isolated in (("browser_threaded", True), ("browser_single_threaded", False)):
      with browser_harness.static_server(site, isolated) as (origin, _):
        page, _ = browser_harness.open_harness(browser, origin)
        answer = browser_harness.colorize_in_page(
            page, [(lineart, hints)], repeats, colorizer.io_spec()["quantization"])
        page.close()
      if answer["threaded"] != isolated:
        raise RuntimeError(f"{variant}: the page ran threaded={answer['threaded']}")
      results["variants"][variant] = {
          **_summary(answer["latenciesMs"]), "runtime_load_ms": answer["runtimeLoadMs"],
          "compile_ms": answer["compileMs"],
          "max_diff_vs_python": int(np.abs(answer["results"][0].astype(np.int32)
                                           - colorizer.colorize(lineart, hints)).max())}
  results["load_average"] = os.getloadavg()
  return results


def format_report(results):
  """The figures as a small text table."""
  python_ms = results["variants"]["python"]["median_ms"]
  lines = [f"model {results['model']} ({results['model_mb']:.1f} MB, "
           f"{results['model_size']}x{results['model_size']}), page "
           f"{results['page'][0]}x{results['page'][1]}, {results['cpu_count']} CPUs, "
           f"load average {', '.join(f'{x:.1f}' for x in results['load_average'])}",
           f"{'variant':<25}{'median ms':>10}{'min ms':>10}{'x python':>10}"]
  for name in VARIANTS:
    figures = results["variants"][name]
    lines.append(f"{name:<25}{figures['median_ms']:>10.1f}{figures['min_ms']:>10.1f}"
                 f"{figures['median_ms'] / python_ms:>10.2f}")
  return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class BrowserTFLiteSettings:
  """The flags of `python -m tfcolor.benchmarks.browser_tflite`."""

  tflite: str = field("", "A tfcolor.export --tflite model (required).")
  height: int = field(0, "Page height (0 = the model's size).")
  width: int = field(0, "Page width (0 = the model's size).")
  repeats: int = field(5, "Timed calls per variant.")
  python_threads: int = field(0, "Python interpreter threads (0 = os.cpu_count()).")
  json_out: str = field("", "Also write the figures as JSON here.")


def main(argv):
  del argv
  settings = flags_lib.dataclass_from_flags(BrowserTFLiteSettings)
  flags_lib.require(settings, "tflite")
  if not os.path.isfile(settings.tflite):
    raise app.UsageError(f"--tflite={settings.tflite}: no such file")
  results = run_benchmark(settings.tflite, settings.height, settings.width,
                          settings.repeats, settings.python_threads)
  print(format_report(results))
  if settings.json_out:
    with open(settings.json_out, "w", encoding="utf-8") as out:
      json.dump(results, out, indent=2)


if __name__ == "__main__":
  flags_lib.define_dataclass_flags(BrowserTFLiteSettings)
  flags.adopt_module_key_flags(flags_lib)  # Listed by --help.
  cli.run(main)
