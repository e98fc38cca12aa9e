"""Latency of one colorization and size on disk: Keras, SavedModel, TFLite modes.

  python -m tfcolor.benchmarks.deployment [--size=512] [--repeats=3] \
      [--quantize_modes=none,float16,dynamic_int8] [--flagfile=configs/X.cfg]

Random weights (`--vgg_weights=none` is forced); model widths come from the
ModelConfig flags, so `--stem_filters=16 --down_filters=32,64,128,256 ...`
benchmarks a smaller model. Figures are printed (and --json_out), never asserted.
"""

import dataclasses
import json
import os
import tempfile

from absl import app, flags
import numpy as np

from tfcolor import flags as tfcolor_flags

tfcolor_flags.define_flags(sections=("model",))
_SIZE = flags.DEFINE_integer("size", 512, "Square image side (pixels).")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Timed runs per variant.")
_MODES = flags.DEFINE_list("quantize_modes", ["none", "float16", "dynamic_int8"],
                           "TFLite quantisation modes to time (int8 needs calibration "
                           "data; not included here).")
_JSON_OUT = flags.DEFINE_string("json_out", "", "Also write the figures as JSON here.")


def _dir_size(path):
  return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path)
             for f in files)


def main(argv):
  del argv
  # pylint: disable=import-outside-toplevel
  from tfcolor import config as config_lib
  from tfcolor.benchmarks import common
  from tfcolor.models import factory
  from tfcolor.serving import export, signature, tflite_runner
  import tensorflow as tf

  model_config = dataclasses.replace(
      tfcolor_flags.dataclass_from_flags(config_lib.ModelConfig), vgg_weights="none")
  size, repeats = _SIZE.value, _REPEATS.value
  generator = factory.build_generator(model_config)
  rng = np.random.default_rng(0)
  lineart = np.where(rng.uniform(size=(1, size, size, 1)) < 0.1, 0, 255).astype(np.uint8)
  hints = np.zeros((1, size, size, 4), np.uint8)
  hints[0, 100:104, 100:104] = (255, 0, 0, 255)
  results = {}
  with tempfile.TemporaryDirectory() as tmp:
    keras_fn = tf.function(lambda l, h: signature.colorize_float(generator, l, h))
    timing = common.time_call(keras_fn, lineart, hints, repeats=repeats)
    generator.save(os.path.join(tmp, "g.keras"))
    results["keras"] = {"median_s": timing.median_s,
                        "mb": os.path.getsize(os.path.join(tmp, "g.keras")) / 1e6}
    path = export.export_saved_model(generator, os.path.join(tmp, "sm"), 1)
    serve = tf.saved_model.load(path).signatures["serving_default"]
    timing = common.time_call(lambda: serve(lineart=lineart, hints=hints), repeats=repeats)
    results["saved_model"] = {"median_s": timing.median_s, "mb": _dir_size(path) / 1e6}
    for mode in _MODES.value:
      model_bytes = export.convert_tflite(generator, size, mode)
      colorizer = tflite_runner.TFLiteColorizer(model_content=model_bytes)
      inputs = (tflite_runner.lineart_to_model(lineart), tflite_runner.hints_to_model(hints))
      timing = common.time_call(lambda: colorizer.run_float(*inputs), repeats=repeats)
      results[f"tflite_{mode}"] = {"median_s": timing.median_s,
                                   "mb": len(model_bytes) / 1e6}
  print(f"size {size}x{size}, batch 1, widths stem={model_config.stem_filters} "
        f"down={model_config.down_filters} blocks={model_config.num_mid_blocks}")
  for name, figures in results.items():
    print(f"{name:22s} {figures['median_s'] * 1e3:10.1f} ms {figures['mb']:10.1f} MB")
  if _JSON_OUT.value:
    with open(_JSON_OUT.value, "w", encoding="utf-8") as f:
      json.dump({"size": size, "model": config_lib.to_dict(
          config_lib.ExperimentConfig(model=model_config))["model"], "results": results},
                f, indent=2)


if __name__ == "__main__":
  app.run(main)
