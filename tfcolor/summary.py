"""Prints the sizes of an experiment's networks.

  python -m tfcolor.summary --flagfile=configs/paper.cfg [--json]

Generator trainable parameters (frozen VGG excluded), the discriminators'
parameters together, VGG19's, and the generator's forward GFLOPs (VGG hint
encoder included) for one image at --crop_size. With --json: one JSON object
with the keys generator_params, discriminator_params, vgg_params,
generator_gflops, crop_size.
"""

import dataclasses
import json

from absl import app, flags

from tfcolor import cli
from tfcolor import flags as tfcolor_flags
from tfcolor.config import field
from tfcolor.models import statistics


@dataclasses.dataclass(frozen=True)
class SummarySettings:
  """The flags of `python -m tfcolor.summary` besides the experiment config's."""

  json: bool = field(False, "Print one JSON object instead of a table.")


def define_flags():
  """The experiment config's flags and --json.

  Called only when run as a program, so importing this module claims no flag
  names in the process (tfcolor.fid has another --json).
  """
  tfcolor_flags.define_flags()
  tfcolor_flags.define_dataclass_flags(SummarySettings)
  flags.adopt_module_key_flags(tfcolor_flags)  # Listed by --help.


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  config = tfcolor_flags.config_from_flags()
  stats = statistics.model_statistics(config.model, config.data.crop_size)
  if tfcolor_flags.dataclass_from_flags(SummarySettings).json:
    print(json.dumps(stats, sort_keys=True))
  else:
    print(statistics.format_table(stats, config.model))


if __name__ == "__main__":
  define_flags()
  cli.run(main)
