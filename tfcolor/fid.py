r"""FID between two folders of images, or a folder and saved statistics.

  python -m tfcolor.fid REAL_DIR FAKE_DIR \
      --fid_inception=/path/to/classify_image_graph_def.pb [--json]
  python -m tfcolor.fid REAL_DIR --save_stats=real.npz --fid_inception=...
  python -m tfcolor.fid real.npz FAKE_DIR --fid_inception=...

Folders are read recursively (png, jpg, bmp, webp, gif, tif); unreadable files
are logged and skipped. A `.npz` holds `mu` and `sigma` (the reference tools'
format). `--fid_inception=keras` uses Keras' InceptionV3 ImageNet weights; such
numbers are not comparable with published FIDs. See docs/evaluation.md.
"""

import dataclasses
import json
import sys

from absl import app, flags, logging

from tfcolor import cli
from tfcolor import config as config_lib
from tfcolor import flags as tfcolor_flags
from tfcolor.config import field

FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class FidSettings:
  """This CLI's own settings (each field is also its flag)."""

  save_stats: str = field("", "With one folder argument: write its statistics to this .npz.")
  json: bool = field(False, 'Print {"fid": ..., "num_real": ..., "num_fake": ...}.')
  inception_batch_size: int = field(50, "Images per Inception batch.")


def define_flags():
  """FidSettings' flags and EvalConfig's --fid_inception; only when run as a program."""
  tfcolor_flags.define_dataclass_flags(config_lib.EvalConfig, names=("fid_inception",))
  tfcolor_flags.define_dataclass_flags(FidSettings)
  flags.adopt_module_key_flags(tfcolor_flags)  # Listed by --help.


def main(argv):
  paths = argv[1:]
  expected = 1 if FLAGS.save_stats else 2
  if len(paths) != expected:
    usage = "FOLDER --save_stats=PATH.npz" if FLAGS.save_stats else "REAL FAKE"
    raise app.UsageError(f"expected {usage}, got {len(paths)} path arguments: {paths}")
  if FLAGS.inception_batch_size < 1:
    raise app.UsageError(f"--inception_batch_size must be >= 1, got {FLAGS.inception_batch_size}")
  from tfcolor.evaluation import fid  # pylint: disable=import-outside-toplevel

  extractors = []

  def extractor_fn():  # Builds the network once, only if a folder needs it.
    if not extractors:
      from tfcolor.evaluation import inception  # pylint: disable=import-outside-toplevel
      extractors.append(inception.create_feature_extractor(FLAGS.fid_inception))
    return extractors[0]

  if FLAGS.save_stats:
    if paths[0].endswith(".npz"):
      raise app.UsageError("--save_stats needs a folder of images, not a .npz")
    try:
      stats = fid.statistics_from_folder(paths[0], extractor_fn(), FLAGS.inception_batch_size)
    except ValueError as error:
      sys.exit(f"tfcolor.fid: {error}")
    fid.save_stats(FLAGS.save_stats, stats.mu, stats.sigma, stats.num)
    logging.info("wrote statistics of %d images to %s", stats.num, FLAGS.save_stats)
    return
  try:
    real, fake = (fid.statistics_from_path(path, extractor_fn, FLAGS.inception_batch_size)
                  for path in paths)
    value = fid.frechet_distance(real.mu, real.sigma, fake.mu, fake.sigma)
  except ValueError as error:
    sys.exit(f"tfcolor.fid: {error}")
  if extractors and not extractors[0].comparable_with_papers:
    logging.warning("FID from Keras InceptionV3 weights: not comparable with published FIDs")
  if FLAGS.json:
    report = {"fid": value, "num_real": real.num, "num_fake": fake.num}
    if extractors:
      report["comparable_with_papers"] = extractors[0].comparable_with_papers
    print(json.dumps(report))
  else:
    print(f"{value:.4f}")


if __name__ == "__main__":
  define_flags()
  cli.run(main)
