"""Latency of one colorization and size on disk: Keras, SavedModel, TFLite modes.

  nice -n 10 python -m tfcolor.benchmarks.deployment [--size=512] [--warmup=1] \
      [--repeats=2] [--variants=keras,saved_model,tflite_none,...] \
      [--representative_data=GLOB] [--int8_io=float|uint8] \
      [--flagfile=configs/X.cfg] [--json_out=FILE]

Random weights (`--vgg_weights=none` is forced); model widths come from the
ModelConfig flags (default: the paper's, 212M parameters), so
`--stem_filters=16 --down_filters=32,64,64,128 ...` benchmarks a smaller model.
Each variant runs in its own (spawned) process: the generator is built,
exported the way `tfcolor.export` does it, dropped where the export no longer
needs it, and the export timed on one `--size` square image, batch 1, after
`--warmup` untimed runs. The export time and that process's peak RSS (its
own, not the run's) are reported:

  keras         the Keras generator in a tf.function, uint8 in/out like serving
  saved_model   the exported SavedModel's serving_default signature
  saved_model_bfloat16  the same, exported with tfcolor.export --precision=bfloat16;
                also prints its |diff| from saved_model's colours (uint8)
  tflite_MODE   the TFLite model (converted from the source SavedModel on
                disk after the Keras model is dropped, in a child process as
                tfcolor.export does; peak RSS is the larger of the two
                processes', both are in --json_out; LiteRT interpreter,
                `--tflite_threads`) on
                model-range inputs; int8 calibrates on --representative_data, or
                on random inputs when no glob is given (speed does not depend
                on the values; the colours of a random model mean nothing)

Size on disk: the .keras file, the SavedModel folder, the .tflite flatbuffer.
Figures are printed as a table (and --json_out), never asserted.
"""

import dataclasses
import functools
import json
import os
import resource
import tempfile
import time

from absl import app, flags
import numpy as np

from tfcolor import cli
from tfcolor import flags as tfcolor_flags
from tfcolor.config import field

VARIANTS = ("keras", "saved_model", "saved_model_bfloat16", "tflite_none",
            "tflite_float16", "tflite_dynamic_int8", "tflite_int8")


@dataclasses.dataclass(frozen=True)
class DeploymentBenchmarkSettings:
  """This benchmark's settings (each field is also its flag).

  The int8 settings keep tfcolor.export's names (--representative_data,
  --representative_examples, --int8_io).
  """

  size: int = field(512, "Square image side (pixels, multiple of 16).")
  warmup: int = field(1, "Untimed runs per variant before timing.")
  repeats: int = field(2, "Timed runs per variant.")
  variants: tuple[str, ...] = field(VARIANTS, f"Variants to export and time, of {list(VARIANTS)}.")
  representative_data: str = field(
      "", "TFRecord glob(s) to calibrate tflite_int8 on; '' = random inputs.")
  representative_examples: int = field(
      2, "Calibration examples for tflite_int8 (each is a float forward pass in "
      "the converter).")
  int8_io: str = field("float", "I/O of the tflite_int8 model (tfcolor.export "
                       "--int8_io).", ("float", "uint8"))
  tflite_threads: int = field(
      0, "LiteRT interpreter threads (0 = os.cpu_count(), like TensorFlow's "
      "intra-op pool).")
  work_dir: str = field(
      "", "Where the exports are written (deleted at the end); '' = a temporary "
      "folder in $TMPDIR. Default widths need ~3 GB.")
  json_out: str = field("", "Also write the figures as JSON here.")


def define_flags():
  """The model config's flags and this benchmark's; only when run as a program."""
  tfcolor_flags.define_flags(sections=("model",))
  tfcolor_flags.define_dataclass_flags(DeploymentBenchmarkSettings)
  flags.adopt_module_key_flags(tfcolor_flags)  # Listed by --help.


def _dir_size(path):
  return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path)
             for f in files)


def _peak_rss_gb(who=resource.RUSAGE_SELF):
  """Peak RSS of this process (or of its largest finished child) in GB."""
  return resource.getrusage(who).ru_maxrss / 1e6  # kB on Linux


def random_inputs(size, seed=0):
  """uint8 line art (1, S, S, 1) with 10% black pixels and RGBA hints with 8 patches."""
  rng = np.random.default_rng(seed)
  lineart = np.where(rng.uniform(size=(1, size, size, 1)) < 0.1, 0, 255).astype(np.uint8)
  hints = np.zeros((1, size, size, 4), np.uint8)
  for _ in range(8):
    top, left = rng.integers(0, size - 8, 2)
    hints[0, top:top + 8, left:left + 8] = list(rng.integers(0, 256, 3)) + [255]
  return lineart, hints


def format_table(results, header):
  """The printed table: one row per variant."""
  lines = [header, f"{'variant':22s} {'median s':>10s} {'min s':>10s} {'MB on disk':>11s} "
           f"{'export s':>9s} {'peak RSS GB':>12s}"]
  for name, figures in results.items():
    lines.append(f"{name:22s} {figures['median_s']:10.3f} {figures['min_s']:10.3f} "
                 f"{figures['mb']:11.1f} {figures['export_s']:9.1f} "
                 f"{figures['peak_rss_gb']:12.1f}")
  return "\n".join(lines)


def random_representative(size, num_examples):
  """int8 calibration on random inputs (speed does not depend on the values).

  A `functools.partial`, so it can be sent to the conversion process.
  """
  return functools.partial(_random_examples, size, num_examples)


def _random_examples(size, num_examples):
  from tfcolor.serving import signature, tflite_runner  # pylint: disable=import-outside-toplevel
  for seed in range(num_examples):
    example = random_inputs(size, seed=seed + 1)
    yield {signature.LINEART_KEY: tflite_runner.lineart_to_model(example[0]),
           signature.HINTS_KEY: tflite_runner.hints_to_model(example[1])}


def release_models():
  """Frees dropped Keras models (the caller `del`s its names first) before a conversion."""
  import keras  # pylint: disable=import-outside-toplevel
  from tfcolor.serving import tflite_process  # pylint: disable=import-outside-toplevel
  keras.backend.clear_session()
  tflite_process.release_memory()


def measure_variant(name, settings, model_config, work_dir):
  """Exports and times one variant; runs in its own process (`run_variant`).

  Returns the variant's figures, its peak RSS being this process's own (a
  SavedModel's also carry its last output, "image", for the |diff|): the
  generator is built, exported, dropped (before the conversion for TFLite)
  and the export loaded and timed here.
  """
  # pylint: disable=import-outside-toplevel
  import keras
  import tensorflow as tf
  from tfcolor.benchmarks import common
  from tfcolor.models import factory
  from tfcolor.serving import saved_model_export, signature, tflite_export, tflite_runner
  from tfcolor.serving import tflite_process
  from tfcolor.serving import precision as precision_lib

  size, warmup, repeats = settings.size, settings.warmup, settings.repeats
  keras.utils.set_random_seed(0)
  generator = factory.build_generator(model_config)
  parameters = generator.count_params()
  lineart, hints = random_inputs(size)
  start = time.perf_counter()
  if name == "keras":
    path = os.path.join(work_dir, "generator.keras")
    generator.save(path)
    export_s = time.perf_counter() - start
    keras_fn = tf.function(lambda l, h: signature.image_to_uint8(
        signature.colorize_float(generator, l, h)))
    timing = common.time_call(keras_fn, lineart, hints, warmup=warmup, repeats=repeats)
    megabytes = os.path.getsize(path) / 1e6
  elif name.startswith("saved_model"):
    precision = name[len("saved_model_"):] or "float32"
    exported = precision_lib.generator_in_precision(generator, model_config, precision)
    path = saved_model_export.export_saved_model(exported, os.path.join(work_dir, name), 1)
    export_s = time.perf_counter() - start
    del generator, exported
    release_models()
    serve = tf.saved_model.load(path).signatures[signature.SERVING_SIGNATURE]
    outputs = {}

    def serve_and_keep():
      outputs["image"] = serve(lineart=lineart, hints=hints)[signature.IMAGE_KEY].numpy()

    timing = common.time_call(serve_and_keep, warmup=warmup, repeats=repeats)
    megabytes = _dir_size(path) / 1e6
  else:
    mode = name[len("tflite_"):]
    source = os.path.join(work_dir, f"{name}_source")
    tflite_export.write_tflite_source(generator, size, source, mode)
    del generator
    release_models()
    representative = None
    if mode == "int8":
      representative = (tflite_export.representative_dataset(
          settings.representative_data, size, settings.representative_examples)
                        if settings.representative_data else
                        random_representative(size, settings.representative_examples))
    path = tflite_process.convert_tflite_in_child(
        source, os.path.join(work_dir, f"{name}.tflite"), mode, representative,
        settings.int8_io if mode == "int8" else "float")
    export_s = time.perf_counter() - start
    colorizer = tflite_runner.TFLiteColorizer(
        model_path=path, num_threads=settings.tflite_threads or os.cpu_count())
    model_inputs = (tflite_runner.lineart_to_model(lineart),
                    tflite_runner.hints_to_model(hints))
    timing = common.time_call(lambda: colorizer.run_float(*model_inputs),
                              warmup=warmup, repeats=repeats)
    megabytes = os.path.getsize(path) / 1e6
  figures = {"median_s": timing.median_s, "min_s": timing.min_s, "mb": megabytes,
             "export_s": export_s, "parameters": parameters,
             "own_peak_rss_gb": _peak_rss_gb(), "peak_rss_gb": _peak_rss_gb()}
  if name.startswith("tflite"):  # The conversion ran in a child process.
    figures["conversion_peak_rss_gb"] = _peak_rss_gb(resource.RUSAGE_CHILDREN)
    figures["peak_rss_gb"] = max(figures["peak_rss_gb"], figures["conversion_peak_rss_gb"])
  if name.startswith("saved_model"):
    figures["image"] = outputs["image"]
  return figures


def _report(function, args, queue, give_queue):
  """In the child: puts ("ok", function(*args)) or ("error", "Type: message") last."""
  try:
    queue.put(("ok", function(*args, *([queue] if give_queue else []))))
  except BaseException as error:  # pylint: disable=broad-except
    queue.put(("error", f"{type(error).__name__}: {error}"))
    raise


def spawn_reporting(function, *args, give_queue=False):
  """Starts `function(*args)` in a fresh spawned process; returns (process, queue).

  The queue's last message is ("ok", result) or ("error", "Type: message");
  with `give_queue` the function also gets the queue (for messages before).
  """
  import multiprocessing  # pylint: disable=import-outside-toplevel
  context = multiprocessing.get_context("spawn")
  queue = context.Queue()
  process = context.Process(target=_report, args=(function, args, queue, give_queue))
  process.start()
  return process, queue


def run_variant(name, settings, model_config, work_dir):
  """`measure_variant` in a fresh (spawned) process: its peak RSS is the variant's own."""
  process, queue = spawn_reporting(measure_variant, name, settings, model_config, work_dir)
  status, value = queue.get()
  process.join()
  if status != "ok":
    raise RuntimeError(f"variant {name} failed: {value}")
  return value


def settings_and_model(settings_class):
  """The parsed settings (--variants checked) and the model flags' ModelConfig (VGG random)."""
  from tfcolor import config as config_lib  # pylint: disable=import-outside-toplevel
  settings = tfcolor_flags.dataclass_from_flags(settings_class)
  unknown = sorted(set(settings.variants) - set(VARIANTS))
  if unknown:
    raise app.UsageError(f"--variants: unknown {unknown}; known: {list(VARIANTS)}")
  return settings, dataclasses.replace(
      tfcolor_flags.dataclass_from_flags(config_lib.ModelConfig), vgg_weights="none")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  settings, model_config = settings_and_model(DeploymentBenchmarkSettings)
  from tfcolor import config as config_lib  # pylint: disable=import-outside-toplevel
  threads = settings.tflite_threads or os.cpu_count()
  from tfcolor.benchmarks import export_difference  # pylint: disable=import-outside-toplevel
  results = {}
  images = {}  # each SavedModel's output, for the bfloat16 |diff|
  for name in settings.variants:
    with tempfile.TemporaryDirectory(prefix="tfcolor_deploy_bench_",
                                     dir=settings.work_dir or None) as tmp:
      results[name] = run_variant(name, settings, model_config, tmp)
    figures = results[name]
    if "image" in figures:
      images[name] = figures.pop("image")
    print(f"{name}: {figures['median_s']:.3f} s median of {settings.repeats}, "
          f"{figures['mb']:.1f} MB, peak RSS {figures['peak_rss_gb']:.1f} GB", flush=True)
    if name != "saved_model" and name in images and "saved_model" in images:
      figures["uint8_diff"] = export_difference.uint8_difference(
          images["saved_model"], images[name])
      print(f"{name}: |diff| from saved_model in uint8 {figures['uint8_diff']}")

  parameters = next(iter(results.values()))["parameters"] if results else 0
  header = (f"size {settings.size}x{settings.size}, batch 1, widths "
            f"stem={model_config.stem_filters} down={model_config.down_filters} "
            f"blocks={model_config.num_mid_blocks} ({parameters:,} parameters incl. "
            f"the VGG19 encoder), warm-up {settings.warmup}, median of "
            f"{settings.repeats}, TFLite threads {threads}, {os.cpu_count()} CPUs, "
            "one process per variant")
  print(format_table(results, header))
  if settings.json_out:
    with open(settings.json_out, "w", encoding="utf-8") as f:
      json.dump({"size": settings.size, "warmup": settings.warmup,
                 "repeats": settings.repeats, "tflite_threads": threads,
                 "model": config_lib.to_dict(
                     config_lib.ExperimentConfig(model=model_config))["model"],
                 "results": results}, f, indent=2)


if __name__ == "__main__":
  define_flags()
  cli.run(main)
