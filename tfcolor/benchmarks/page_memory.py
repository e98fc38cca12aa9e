r"""Peak memory of one page through the generator, per megapixel: sets --max_side.

  python -m tfcolor.benchmarks.page_memory --side=512
  python -m tfcolor.benchmarks.page_memory --side=1024 [--flagfile=configs/demo.cfg]

Builds the generator of the model flags (default: the paper's widths; VGG19
weights random, which does not change memory), runs one uint8 page of
--side x --side through the serving function (`signature.colorize_float`, as
the SavedModel runs it), and prints the process's resident memory after
building and its peak, and the difference per megapixel. One size per process
(the peak only grows). The figures are in docs/deployment.md.
"""

import dataclasses
import resource

from absl import flags
import numpy as np

from tfcolor import cli
from tfcolor import flags as tfcolor_flags
from tfcolor.config import field


@dataclasses.dataclass(frozen=True)
class PageMemorySettings:
  """Settings of `python -m tfcolor.benchmarks.page_memory` besides the model's."""

  side: int = field(1024, "Square page side in pixels.")


def define_flags():
  """The experiment flags (a config's flagfile works) and PageMemorySettings'."""
  tfcolor_flags.define_flags()
  tfcolor_flags.define_dataclass_flags(PageMemorySettings)
  flags.adopt_module_key_flags(tfcolor_flags)  # Listed by --help.


def _rss_gb():
  with open("/proc/self/statm", encoding="ascii") as f:
    pages = int(f.read().split()[1])
  return pages * resource.getpagesize() / 1e9


def _peak_rss_gb():
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux


def main(argv):
  del argv
  # pylint: disable=import-outside-toplevel
  import tensorflow as tf
  from tfcolor.models import factory
  from tfcolor.serving import signature

  model_config = dataclasses.replace(
      tfcolor_flags.config_from_flags().model, vgg_weights="none")
  generator = factory.build_generator(model_config)
  colorize = tf.function(lambda l, h: signature.colorize_float(generator, l, h))
  side = tfcolor_flags.dataclass_from_flags(PageMemorySettings).side
  lineart = np.full((1, side, side, 1), 255, np.uint8)
  hints = np.zeros((1, side, side, 4), np.uint8)
  colorize.get_concrete_function(tf.TensorSpec(lineart.shape, tf.uint8),
                                 tf.TensorSpec(hints.shape, tf.uint8))
  built = _rss_gb()
  colorize(lineart, hints).numpy()
  peak = _peak_rss_gb()
  megapixels = side * side / 1e6
  print(f"side {side}: {megapixels:.2f} MP, RSS after building {built:.2f} GB, peak "
        f"{peak:.2f} GB, {(peak - built) / megapixels:.2f} GB per megapixel")


if __name__ == "__main__":
  define_flags()
  cli.run(main)
