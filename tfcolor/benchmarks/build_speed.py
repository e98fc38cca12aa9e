r"""Dataset build throughput: Beam on this machine against the builder's pool.

Synthesizes illustrations (`data_tools.synthesize`), then builds TFRecords with
XDoG line art from them once per runner, in this one process, and prints
images/s of each (wall clock of `build_dataset`, start-up included) and the
ratio to the pool, beside the machine's load average (other jobs share the
cores).

  python -m tfcolor.benchmarks.build_speed --num_images=200 --image_size=768

Goal (issue 13): Beam's local runner >= 0.8x the pool (`--runner=local`).
"""

import dataclasses
import os
import tempfile
import time
from typing import Tuple

from absl import flags

from tfcolor import cli
from tfcolor import flags as flags_lib
from tfcolor.config import field


@dataclasses.dataclass(frozen=True)
class BuildSpeedSettings:
  """The flags of `python -m tfcolor.benchmarks.build_speed`."""

  num_images: int = field(200, "Illustrations to build.")
  image_size: int = field(768, "Side of the synthesized illustrations.")
  num_workers: int = field(0, "Processes of each runner (0 = one per core).")
  runners: Tuple[str, ...] = field(
      ("local", ""), "BuildConfig.runner values to time ('' = Beam's DirectRunner in "
      "multi-process mode, 'local' = the pool, or e.g. PrismRunner).")
  work_dir: str = field("", "Keep images and shards here ('' = temporary).")


def _load():
  return "load average %.2f %.2f %.2f" % os.getloadavg()


def time_builds(images_dir, work_dir, runners, num_workers):
  """{runner: (seconds, images/s, report)} of one build per runner."""
  # pylint: disable=import-outside-toplevel
  from data_tools import build_tfrecords

  timings = {}
  for runner in runners:
    config = build_tfrecords.BuildConfig(
        input_dir=images_dir, output_dir=os.path.join(work_dir, f"out-{runner or 'beam'}"),
        extractors=("xdog",), num_shards=2, num_workers=num_workers, runner=runner)
    print(f"{runner or 'beam'}: start, {_load()}", flush=True)
    start = time.perf_counter()
    report = build_tfrecords.build_dataset(config)
    seconds = time.perf_counter() - start
    timings[runner] = (seconds, report["num_files"] / seconds, report)
    print(f"{runner or 'beam'}: {seconds:.1f} s, {report['num_files'] / seconds:.2f} "
          f"images/s, {report['num_examples']} examples; {_load()}", flush=True)
  return timings


def main(argv):
  del argv
  # pylint: disable=import-outside-toplevel
  from data_tools import synthesize

  settings = flags_lib.dataclass_from_flags(BuildSpeedSettings)
  with tempfile.TemporaryDirectory() as temp_dir:
    work_dir = settings.work_dir or temp_dir
    images_dir = os.path.join(work_dir, "images")
    if not os.path.isdir(images_dir):
      synthesize.synthesize_dataset(images_dir, settings.num_images, settings.image_size,
                                    seed=0)
    print(f"{settings.num_images} images of {settings.image_size} px, XDoG, "
          f"{os.cpu_count()} cores, num_workers={settings.num_workers}", flush=True)
    timings = time_builds(images_dir, work_dir, settings.runners, settings.num_workers)
    pool = timings.get("local")
    print(f"{'runner':28s} seconds  images/s  x pool")
    for runner, (seconds, rate, _) in timings.items():
      ratio = f"{rate / pool[1]:.2f}" if pool else "-"
      label = runner or "beam (FnApiRunner, processes)"
      print(f"{label:28s} {seconds:7.1f} {rate:9.2f} {ratio:>7s}")
    print(_load())


if __name__ == "__main__":
  flags_lib.define_dataclass_flags(BuildSpeedSettings)
  flags.adopt_module_key_flags(flags_lib)  # Listed by --help.
  cli.run(main)
