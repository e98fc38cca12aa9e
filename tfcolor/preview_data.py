r"""Writes a picture of what the training pipeline feeds the model.

  python -m tfcolor.preview_data --data='/tmp/sample/tfrecords/train-*' \
      --output=/tmp/sample/pipeline.png --crop_size=64 --num_examples=8

Rows are examples; columns are the ground-truth crop, each line art kind in
the records, the line art fed this time, the hint map and the hints over the
line art (see `tfcolor.data.preview`).
"""

from absl import flags, logging

from tfcolor import cli
from tfcolor import config as config_lib

FLAGS = flags.FLAGS


def define_flags():
  """Defines the flags; called only when run as a program.

  So importing this module claims no flag names (--output, --seed) in a
  process that also holds other tools' flags.
  """
  flags.DEFINE_string("data", None, "Glob(s) of TFRecord files, comma separated.")
  flags.DEFINE_string("output", None, "PNG file to write.")
  flags.DEFINE_integer("crop_size", config_lib.DataConfig.crop_size,
                       "Side of the training crop (multiple of 16).")
  flags.DEFINE_integer("num_examples", 8, "Examples (rows) to show.")
  flags.DEFINE_integer("seed", 0, "Seed of the pipeline's crops, flips, kinds and hints.")
  flags.mark_flags_as_required(["data", "output"])


def main(argv):
  del argv
  data_config = config_lib.DataConfig(train_data=FLAGS.data, crop_size=FLAGS.crop_size)
  config_lib.validate(config_lib.ExperimentConfig(data=data_config))
  from tfcolor.data import preview  # pylint: disable=import-outside-toplevel

  grid = preview.write_preview(data_config, FLAGS.output, FLAGS.num_examples,
                               FLAGS.seed, flag_name="--data")
  logging.info("wrote %s (%d x %d px, %d examples)", FLAGS.output, grid.shape[1],
               grid.shape[0], FLAGS.num_examples)


if __name__ == "__main__":
  define_flags()
  cli.run(main)
