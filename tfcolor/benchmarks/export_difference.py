"""How far one SavedModel export's uint8 colours are from another's (e.g. bfloat16 vs float32).

  python -m tfcolor.benchmarks.export_difference --reference=exports/demo/400 \
      --candidate=exports/demo_bfloat16/400 [--data='data/sample/tfrecords/test-*' \
      --examples=20] [--size=64]

Runs both exports' `serving_default` signature on the same inputs and prints
the mean, 99th percentile and maximum of |candidate - reference| over every
uint8 colour value: on the fixed-hint eval crops of `--data` (`--size` square,
the evaluation's hints), or on `--examples` random pages (the deployment
benchmark's) when no glob is given. docs/deployment.md records the figures of
`--precision=bfloat16`; `tfcolor.benchmarks.deployment` prints the same
figures for its random default-width model.
"""

import dataclasses

from absl import app, flags
import numpy as np

from tfcolor import cli
from tfcolor import flags as tfcolor_flags
from tfcolor.config import field


@dataclasses.dataclass(frozen=True)
class ExportDifferenceSettings:
  """This benchmark's settings (each field is also its flag)."""

  reference: str = field("", "SavedModel folder the candidate is compared with (float32).")
  candidate: str = field("", "SavedModel folder to compare (e.g. --precision=bfloat16).")
  data: str = field("", "TFRecord glob(s): compare on their fixed-hint eval crops; "
                    "'' = random pages.")
  examples: int = field(8, "Examples (crops or random pages) to compare on.")
  size: int = field(256, "Square side of the crops or pages (multiple of 16).")


def define_flags():
  tfcolor_flags.define_dataclass_flags(ExportDifferenceSettings)
  flags.adopt_module_key_flags(tfcolor_flags)  # Listed by --help.


def uint8_difference(reference, candidate):
  """{"mean", "p99", "max"} of |candidate - reference| over uint8 arrays of one shape."""
  diff = np.abs(np.asarray(candidate, np.int32) - np.asarray(reference, np.int32))
  return {"mean": float(diff.mean()), "p99": float(np.percentile(diff, 99)),
          "max": int(diff.max())}


def eval_pages(files, size, examples):
  """uint8 (line art, RGBA hints) pairs of the fixed-hint eval crops of `files`."""
  # pylint: disable=import-outside-toplevel
  from tfcolor import config as config_lib
  from tfcolor import data as tfcolor_data
  from tfcolor import visualize
  data_config = config_lib.DataConfig(eval_data=files, crop_size=size,
                                      eval_mode="center_crop")
  for batch in tfcolor_data.make_eval_dataset(data_config, batch_size=1).take(examples):
    lineart = visualize.to_uint8(batch["lineart"].numpy())[..., :1]
    hints = batch["hints"].numpy()
    mask = hints[..., 3:4] > 0
    rgb = np.where(mask, visualize.to_uint8(hints[..., :3]), 0).astype(np.uint8)
    yield lineart, np.concatenate([rgb, mask.astype(np.uint8) * 255], axis=-1)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  settings = tfcolor_flags.dataclass_from_flags(ExportDifferenceSettings)
  tfcolor_flags.require(settings, "reference", "candidate")
  # pylint: disable=import-outside-toplevel
  import tensorflow as tf
  from tfcolor import config as config_lib
  from tfcolor.benchmarks import deployment
  from tfcolor.serving import signature
  config_lib.check_size("--size", settings.size)
  serve = {name: tf.saved_model.load(path).signatures[signature.SERVING_SIGNATURE]
           for name, path in (("reference", settings.reference),
                              ("candidate", settings.candidate))}
  pages = (eval_pages(settings.data, settings.size, settings.examples) if settings.data
           else (deployment.random_inputs(settings.size, seed) for seed in
                 range(settings.examples)))
  outputs = {"reference": [], "candidate": []}
  for lineart, hints in pages:
    for name, function in serve.items():
      outputs[name].append(function(lineart=lineart, hints=hints)["image"].numpy())
  if not outputs["reference"]:
    raise ValueError(f"--data={settings.data}: no examples read")
  figures = uint8_difference(np.stack(outputs["reference"]), np.stack(outputs["candidate"]))
  print(f"|candidate - reference| in uint8 over {len(outputs['reference'])} "
        f"{settings.size}x{settings.size} {'eval crops' if settings.data else 'random pages'}"
        f": mean {figures['mean']:.3f}, p99 {figures['p99']:.1f}, max {figures['max']}")


if __name__ == "__main__":
  define_flags()
  cli.run(main)
