"""Colorizes line art with an exported model (SavedModel folder or .tflite).

  python -m tfcolor.colorize --model=exports/demo/7 --lineart=page.png \
      --hints=page_hints.png --output=page_color.png
  python -m tfcolor.colorize --model=demo.tflite --lineart=pages/ --output=out/

--hints: a transparent PNG layer (alpha > 0 = hint) or a points file
(`x y #rrggbb [size]`, pixels or fractions); none = automatic colorization.
Exits with status 1 if any file failed (each is logged by name).
"""

import sys

from absl import app, flags

from tfcolor import cli
from tfcolor import flags as tfcolor_flags
from tfcolor.serving import colorize_files


def define_flags():
  """ColorizeConfig's flags; called only when run as a program."""
  tfcolor_flags.define_dataclass_flags(colorize_files.ColorizeConfig)
  flags.adopt_module_key_flags(tfcolor_flags)  # Listed by --help.


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  config = tfcolor_flags.dataclass_from_flags(colorize_files.ColorizeConfig)
  try:
    result = colorize_files.colorize_files(config)
  except (ValueError, FileNotFoundError) as error:
    raise app.UsageError(str(error)) from None
  for path in result["written"]:
    print(path)
  if result["failed"]:
    sys.exit(1)


if __name__ == "__main__":
  define_flags()
  cli.run(main)
