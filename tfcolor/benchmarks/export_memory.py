"""Where each export's memory peak comes from, phase by phase (a benchmark, not a test).

  python -m tfcolor.benchmarks.export_memory [--size=256] \
      [--variants=keras,saved_model,tflite_none,...] [--representative_examples=2] \
      [--flagfile=configs/X.cfg] [--json_out=FILE]

Each variant runs in its own spawned process, the way
`tfcolor.benchmarks.deployment` exports it (random weights, the model flags'
widths; default: the paper's): build the generator, write the export, drop
the Keras model, then load the export and colour one `--size` square once.
A thread of this process samples the variant process's resident memory (and
that of its own children, e.g. the conversion process of
`tflite_process.convert_tflite_in_child`) every `--interval_ms` with psutil,
from outside, so C++ work holding the GIL is sampled too; the variant process
marks the start of each phase. Inside `TFLiteConverter.convert()` the phases
are marked by wrapping the converter's internal steps (TF 2.21's
`tensorflow.lite.python.lite`; only here, never in the export): reading the
SavedModel graph, `tf.saved_model.load` for debug info, the C++ MLIR
conversion (import, freeze, legalise, quantise weights), int8 calibration and
quantisation, buffer deduplication and the metadata round trip through Python
flatbuffer objects. Prints one table per variant: each phase's seconds and
peak GB (the variant process alone, and with its children), and the process's
`ru_maxrss` (the true peak, which a sample can miss).
"""

import dataclasses
import functools
import json
import os
import resource
import tempfile
import threading
import time

from absl import app, flags

from tfcolor import cli
from tfcolor import flags as tfcolor_flags
from tfcolor.benchmarks import deployment
from tfcolor.config import field

VARIANTS = deployment.VARIANTS


@dataclasses.dataclass(frozen=True)
class ExportMemorySettings:
  """This benchmark's settings (each field is also its flag)."""

  size: int = field(256, "Square image side of the TFLite model and the test "
                    "colouring (pixels, multiple of 16).")
  variants: tuple[str, ...] = field(VARIANTS, f"Variants to profile, of {list(VARIANTS)}.")
  representative_examples: int = field(
      2, "Random calibration examples for tflite_int8.")
  convert_in_child: bool = field(
      True, "Convert TFLite in a child process of the variant process, as "
      "tfcolor.export does (false: in the variant process, which shows the "
      "converter's inner phases).")
  run_export: bool = field(
      True, "After exporting, load the export and colour one image (the "
      "deployment benchmark's last phase).")
  interval_ms: int = field(20, "RSS sampling interval.")
  work_dir: str = field("", "Where the exports are written (deleted at the end); "
                        "'' = a temporary folder in $TMPDIR.")
  json_out: str = field("", "Also write the figures as JSON here.")


def define_flags():
  """The model config's flags and this benchmark's; only when run as a program."""
  tfcolor_flags.define_flags(sections=("model",))
  tfcolor_flags.define_dataclass_flags(ExportMemorySettings)
  flags.adopt_module_key_flags(tfcolor_flags)  # Listed by --help.


class PhaseMarks:
  """Phase starts (name, time.monotonic()) sent from the variant process."""

  def __init__(self, queue):
    self._queue = queue

  def __call__(self, name):
    self._queue.put(("phase", name, time.monotonic()))

  def wrap(self, owner, attribute, name, after=None):
    """Marks `name` when owner.attribute is called and `after` when it returns."""
    original = getattr(owner, attribute)

    @functools.wraps(original)
    def marked(*args, **kwargs):
      self(name)
      try:
        return original(*args, **kwargs)
      finally:
        if after:
          self(after)

    setattr(owner, attribute, marked)


def mark_converter_phases(mark):
  """Wraps TF 2.21's converter steps so that `convert()` reports its phases."""
  # pylint: disable=import-outside-toplevel,protected-access
  from tensorflow.lite.python import lite
  base = lite.TFLiteConverterBaseV2
  mark.wrap(base, "_load_saved_model", "converter: read SavedModel graph")
  mark.wrap(lite, "_load", "converter: tf.saved_model.load (debug info)")
  mark.wrap(lite, "_convert_saved_model", "converter: MLIR import+freeze+convert (C++)",
            after="converter: Python flatbuffer object (dedupe check)")
  mark.wrap(lite._calibrator, "add_intermediate_tensors",
            "converter: calibration model (intermediate tensors)")
  mark.wrap(lite._calibrator.Calibrator, "calibrate", "converter: calibrate")
  mark.wrap(lite, "_mlir_quantize", "converter: quantize (MLIR)",
            after="converter: Python flatbuffer object (dedupe check)")
  mark.wrap(lite, "_deduplicate_readonly_buffers", "converter: dedupe buffers")
  mark.wrap(base, "_optimize_tflite_model", "converter: optimize",
            after="converter: metadata (Python flatbuffer object round trip)")


class RssSampler(threading.Thread):
  """Samples (time, own RSS, RSS with children) of a process until stopped."""

  def __init__(self, pid, interval_s):
    super().__init__(daemon=True)
    import psutil  # pylint: disable=import-outside-toplevel
    self._process = psutil.Process(pid)
    self._interval_s = interval_s
    self._done = threading.Event()
    self.samples = []

  def run(self):
    import psutil  # pylint: disable=import-outside-toplevel
    while not self._done.is_set():
      try:
        own = self._process.memory_info().rss
        total = own
        for child in self._process.children(recursive=True):
          try:
            total += child.memory_info().rss
          except psutil.Error:
            pass
      except psutil.Error:
        break
      self.samples.append((time.monotonic(), own / 1e9, total / 1e9))
      time.sleep(self._interval_s)

  def stop(self):
    self._done.set()
    self.join()


def phase_table(phases, samples, end):
  """Rows {phase, seconds, peak_gb, peak_with_children_gb} from marks and samples."""
  rows = []
  bounds = list(phases) + [("end", end)]
  for (name, start), (_, stop) in zip(bounds, bounds[1:]):
    inside = [s for s in samples if start <= s[0] < stop]
    if not inside:  # Shorter than the interval: the last sample before its end.
      inside = [s for s in samples if s[0] < stop][-1:]
    rows.append({"phase": name, "seconds": stop - start,
                 "peak_gb": max((s[1] for s in inside), default=float("nan")),
                 "peak_with_children_gb": max((s[2] for s in inside),
                                              default=float("nan"))})
  return rows


def format_table(name, result):
  """One variant's printed table."""
  lines = [f"{name}: ru_maxrss {result['maxrss_gb']:.2f} GB (variant process), "
           f"{result['children_maxrss_gb']:.2f} GB (its largest child)",
           f"  {'phase':58s} {'s':>7s} {'peak GB':>8s} {'+children':>10s}"]
  for row in result["phases"]:
    lines.append(f"  {row['phase']:58s} {row['seconds']:7.1f} {row['peak_gb']:8.2f} "
                 f"{row['peak_with_children_gb']:10.2f}")
  return "\n".join(lines)


def profile_variant(name, settings, model_config, work_dir, mark):
  """Exports (and runs) one variant, marking each phase; in its own process."""
  # pylint: disable=import-outside-toplevel
  import keras
  import tensorflow as tf
  from tfcolor.models import factory
  from tfcolor.serving import precision as precision_lib
  from tfcolor.serving import saved_model_export, signature, tflite_export, tflite_runner
  from tfcolor.serving import tflite_process

  size = settings.size
  lineart, hints = deployment.random_inputs(size)
  mark("build generator")
  keras.utils.set_random_seed(0)
  generator = factory.build_generator(model_config)
  if name == "keras":
    mark("write .keras")
    path = os.path.join(work_dir, "generator.keras")
    generator.save(path)
    if settings.run_export:
      mark("run once (Keras)")
      tf.function(lambda l, h: signature.colorize_float(generator, l, h))(
          lineart, hints).numpy()
    return
  if name.startswith("saved_model"):
    precision = name[len("saved_model_"):] or "float32"
    mark(f"generator in {precision}")
    exported = precision_lib.generator_in_precision(generator, model_config, precision)
    mark("write SavedModel")
    path = saved_model_export.export_saved_model(exported, os.path.join(work_dir, name), 1)
    mark("drop Keras model")
    del generator, exported
    deployment.release_models()
    if settings.run_export:
      mark("load SavedModel and run once")
      serve = tf.saved_model.load(path).signatures[signature.SERVING_SIGNATURE]
      serve(lineart=lineart, hints=hints)[signature.IMAGE_KEY].numpy()
    return
  mode = name[len("tflite_"):]
  mark("write TFLite source SavedModel")
  source = os.path.join(work_dir, "source")
  tflite_export.write_tflite_source(generator, size, source, mode)
  mark("drop Keras model")
  del generator
  deployment.release_models()
  representative = None
  if mode == "int8":
    representative = deployment.random_representative(size, settings.representative_examples)
  path = os.path.join(work_dir, f"{name}.tflite")
  if settings.convert_in_child:
    mark("convert + write .tflite in a child process")
    tflite_process.convert_tflite_in_child(source, path, mode, representative)
  else:
    mark_converter_phases(mark)
    mark("converter: from_saved_model")
    model_bytes = tflite_export.convert_tflite_source(source, mode, representative)
    mark("write .tflite")
    tflite_export.write_tflite(path, model_bytes)
    del model_bytes
  if settings.run_export:
    mark("load in LiteRT and run once")
    colorizer = tflite_runner.TFLiteColorizer(model_path=path)
    colorizer.run_float(tflite_runner.lineart_to_model(lineart),
                        tflite_runner.hints_to_model(hints))


def _profile_and_peaks(name, settings, model_config, work_dir, queue):
  """`profile_variant`, then this process's and its largest child's ru_maxrss (GB)."""
  profile_variant(name, settings, model_config, work_dir, PhaseMarks(queue))
  return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
          resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6)


def run_variant(name, settings, model_config, work_dir):
  """`profile_variant` in a fresh spawned process, sampled from here."""
  process, queue = deployment.spawn_reporting(
      _profile_and_peaks, name, settings, model_config, work_dir, give_queue=True)
  sampler = RssSampler(process.pid, settings.interval_ms / 1000)
  sampler.start()
  phases = []
  message = queue.get()
  while message[0] == "phase":
    phases.append(message[1:])
    message = queue.get()
  end = time.monotonic()
  process.join()
  sampler.stop()
  if message[0] != "ok":
    raise RuntimeError(f"variant {name} failed: {message[1]}")
  maxrss, children_maxrss = message[1]
  return {"phases": phase_table(phases, sampler.samples, end), "maxrss_gb": maxrss,
          "children_maxrss_gb": children_maxrss}


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  settings, model_config = deployment.settings_and_model(ExportMemorySettings)
  results = {}
  for name in settings.variants:
    with tempfile.TemporaryDirectory(prefix="tfcolor_export_memory_",
                                     dir=settings.work_dir or None) as tmp:
      results[name] = run_variant(name, settings, model_config, tmp)
    print(format_table(name, results[name]), flush=True)
  print(f"size {settings.size}, widths stem={model_config.stem_filters} "
        f"down={model_config.down_filters} blocks={model_config.num_mid_blocks}, "
        f"TFLite converted {'in a child process' if settings.convert_in_child else 'in the variant process'}; "
        f"load {os.getloadavg()[0]:.1f}")
  if settings.json_out:
    with open(settings.json_out, "w", encoding="utf-8") as f:
      json.dump({"size": settings.size, "convert_in_child": settings.convert_in_child,
                 "results": results}, f, indent=2)


if __name__ == "__main__":
  define_flags()
  cli.run(main)
