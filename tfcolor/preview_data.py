r"""Writes a picture of what the training pipeline feeds the model.

  python -m tfcolor.preview_data --train_data='/tmp/sample/tfrecords/train-*' \
      --output=/tmp/sample/pipeline.png --crop_size=64 --num_examples=8

Rows are examples; columns are the ground-truth crop, each line art kind in
the records, the line art fed this time, the hint map and the hints over the
line art (see `tfcolor.data.preview`). --train_data and --crop_size are the
training config's flags (`tfcolor.config.DataConfig`).
"""

import dataclasses

from absl import app, flags, logging

from tfcolor import cli
from tfcolor import config as config_lib
from tfcolor import flags as tfcolor_flags
from tfcolor.config import field


@dataclasses.dataclass(frozen=True)
class PreviewSettings:
  """This CLI's own settings (each field is also its flag)."""

  output: str = field("", "PNG file to write.")
  num_examples: int = field(8, "Examples (rows) to show.")
  seed: int = field(0, "Seed of the pipeline's crops, flips, kinds and hints.")


_DATA_FIELDS = ("train_data", "crop_size")


def define_flags():
  """PreviewSettings' flags, --train_data and --crop_size; only when run as a program."""
  tfcolor_flags.define_dataclass_flags(config_lib.DataConfig, names=_DATA_FIELDS)
  tfcolor_flags.define_dataclass_flags(PreviewSettings)
  flags.adopt_module_key_flags(tfcolor_flags)  # Listed by --help.


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  settings = tfcolor_flags.dataclass_from_flags(PreviewSettings)
  data_config = config_lib.DataConfig(
      **{name: flags.FLAGS[name].value for name in _DATA_FIELDS})
  if not data_config.train_data or not settings.output:
    raise app.UsageError("--train_data and --output are required")
  try:
    config_lib.validate(config_lib.ExperimentConfig(data=data_config))
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  from tfcolor.data import preview  # pylint: disable=import-outside-toplevel

  grid = preview.write_preview(data_config, settings.output, settings.num_examples,
                               settings.seed)
  logging.info("wrote %s (%d x %d px, %d examples)", settings.output, grid.shape[1],
               grid.shape[0], settings.num_examples)


if __name__ == "__main__":
  define_flags()
  cli.run(main)
