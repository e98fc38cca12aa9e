r"""Trains the colorization GAN: `python -m tfcolor.train --flagfile=configs/NAME.cfg`.

Every setting is a flag (see `tfcolor/config.py` or `--helpfull`); flags after
the flagfile override it. Run from the repository root: paths in the configs,
nested `--flagfile=` lines included, resolve from the working directory.

  python -m tfcolor.train --flagfile=configs/demo.cfg
  python -m tfcolor.train --flagfile=configs/paper.cfg \
      --train_data='data/danbooru/train-*' --model_dir=runs/paper

Exit codes: 0 finished, 1 bad flags or an error, 42 stopped by SIGTERM/Ctrl+C
after saving a checkpoint (rerun the same command to resume).
"""

import os
import sys

# Reuse host memory between batches instead of returning it to the OS: about
# halves the input pipeline's CPU cost (docs/input_pipeline.md). Must be set
# before TensorFlow loads.
os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
from absl import logging

from tfcolor import cli
from tfcolor import flags as tfcolor_flags
from tfcolor.training import preflight


def define_flags():
  """Every config section's flags; called only when run as a program."""
  tfcolor_flags.define_flags()
  flags.adopt_module_key_flags(tfcolor_flags)  # Listed by --help.


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  try:
    config = preflight.check_runnable(tfcolor_flags.config_from_flags())
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  # Imported after the checks so flag errors are reported before TensorFlow loads.
  from tfcolor.training import loop  # pylint: disable=g-import-not-at-top
  from tfcolor.training import preemption  # pylint: disable=g-import-not-at-top
  result = loop.train(config)
  if result.preempted:
    logging.warning("Exiting with code %d: stopped early, checkpoint saved at step %d",
                    preemption.PREEMPTED_EXIT_CODE, result.step)
    sys.exit(preemption.PREEMPTED_EXIT_CODE)


if __name__ == "__main__":
  define_flags()
  cli.run(main)
