"""Exports a trained generator for TF Serving and/or TFLite.

  python -m tfcolor.export --model_dir=runs/demo --export_dir=exports/demo \
      [--precision=float32|bfloat16] [--tflite=exports/demo.tflite --tflite_size=512 \
       --quantize=none|float16|dynamic_int8|int8 \
       [--representative_data=GLOB --int8_io=float|uint8]] [--web_demo=DIR]

Writes EXPORT_DIR/<version>/ (version = the checkpoint's step) with the
signatures serving_default (uint8 line art + RGBA hints -> uint8 image, any
size) and colorize_float, computing in --precision; the TFLite model is
converted from a temporary SavedModel at one fixed size; --web_demo=DIR writes
a static folder that colours in the browser with it (tfcolor.studio.web_demo).
See docs/deployment.md.
"""

from absl import app, flags, logging

from tfcolor import cli
from tfcolor import flags as tfcolor_flags
from tfcolor.serving import export


def define_flags():
  """ExportConfig's flags; called only when run as a program."""
  tfcolor_flags.define_dataclass_flags(export.ExportConfig)
  flags.adopt_module_key_flags(tfcolor_flags)  # Listed by --help.


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  try:
    config = export.validate_export_config(
        tfcolor_flags.dataclass_from_flags(export.ExportConfig))
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  # pylint: disable=import-outside-toplevel
  from tfcolor.studio import web_demo  # The studio sits above serving.
  result = export.run_export(config, web_demo_writer=web_demo)
  for key in ("saved_model", "tflite", "web_demo"):
    if key in result:
      logging.info("%s: %s", key, result[key])
      print(f"{key}: {result[key]}")


if __name__ == "__main__":
  define_flags()
  cli.run(main)
