r"""Training input throughput: images/s of `make_train_dataset` at 512 crops.

Builds its own dataset in a temporary folder with the project's tools:
synthesized 768-px illustrations (`data_tools.synthesize`) turned into TFRecords
with XDoG line art by `data_tools.build_tfrecords` (image encoded as PNG or
JPEG), then times the training pipeline with 1, 2 and AUTOTUNE parallel calls:
a few warm-up batches (shuffle buffer fill, tracing), then a fixed number of
batches. Prints images/s and images per CPU-second (the per-core rate: CPU time
of the whole process, all tf.data threads included).

  python -m tfcolor.benchmarks.input_pipeline --image_format=jpeg

Target (issue 2): >= 150 images/s per core, so 8 GPUs at batch 32 never wait.
"""

import dataclasses
import os
import tempfile
import time
from typing import Tuple

from absl import flags, logging

from tfcolor import cli
from tfcolor import flags as flags_lib
from tfcolor.config import field


@dataclasses.dataclass(frozen=True)
class InputPipelineBenchmarkSettings:
  """The flags of `python -m tfcolor.benchmarks.input_pipeline`."""

  num_images: int = field(64, "Illustrations in the benchmark dataset.")
  image_size: int = field(768, "Side of the synthesized illustrations.")
  crop_size: int = field(512, "Training crop side.")
  batch_size: int = field(16, "Examples per batch.")
  image_format: str = field("png", "Encoding of the `image` feature in the benchmark "
                            "records.", ("png", "jpeg"))
  num_batches: int = field(30, "Timed batches per setting.")
  warmup_batches: int = field(5, "Untimed batches before timing.")
  parallel_calls: Tuple[int, ...] = field(
      (1, 2, -1), "num_parallel_calls settings to time (-1 = AUTOTUNE).")
  work_dir: str = field("", "Keep the dataset here ('' = a temporary folder).")
  json_out: str = field("", "Also write the figures here as JSON.")
  bfc_cpu_allocator: bool = field(
      True, "Set TF_CPU_ALLOCATOR_USE_BFC=true (reuse host memory instead of "
      "page-faulting fresh buffers for every batch).")


def build_benchmark_records(work_dir, num_images, image_size, image_format):
  """Synthesizes illustrations and builds xdog TFRecords; returns the shard paths."""
  from data_tools import build_tfrecords, synthesize  # pylint: disable=import-outside-toplevel

  images_dir = os.path.join(work_dir, "images")
  records_dir = os.path.join(work_dir, f"tfrecords_{image_format}")
  synthesize.synthesize_dataset(images_dir, num_images, image_size, seed=0)
  report = build_tfrecords.build_dataset(build_tfrecords.BuildConfig(
      input_dir=images_dir, output_dir=records_dir, extractors=("xdog",),
      num_shards=8, train_fraction=1.0, val_fraction=0.0, test_fraction=0.0,
      image_format=image_format))
  return [os.path.join(records_dir, shard)
          for shard in report["splits"]["train"]["shards"]]


def time_pipeline(data_config, batch_size, num_batches, warmup_batches):
  """Images/s (wall clock) and images per CPU-second of the training pipeline."""
  from tfcolor.data import input_pipeline  # pylint: disable=import-outside-toplevel

  iterator = iter(input_pipeline.make_train_dataset(data_config, batch_size, seed=0))
  for _ in range(warmup_batches):
    next(iterator)
  wall_start, cpu_start = time.perf_counter(), time.process_time()
  for _ in range(num_batches):
    next(iterator)
  wall, cpu = time.perf_counter() - wall_start, time.process_time() - cpu_start
  images = num_batches * batch_size
  return images / wall, images / cpu


def main(argv):
  del argv
  settings = flags_lib.dataclass_from_flags(InputPipelineBenchmarkSettings)
  # Read by TensorFlow when it first allocates host memory: set before importing it.
  os.environ["TF_CPU_ALLOCATOR_USE_BFC"] = ("true" if settings.bfc_cpu_allocator
                                            else "false")
  from tfcolor.config import DataConfig  # pylint: disable=import-outside-toplevel

  with tempfile.TemporaryDirectory() as scratch:
    work_dir = settings.work_dir or scratch
    start = time.perf_counter()
    files = build_benchmark_records(work_dir, settings.num_images, settings.image_size,
                                    settings.image_format)
    logging.info("built %d shards in %.0f s", len(files), time.perf_counter() - start)
    base = DataConfig(train_data=",".join(files), crop_size=settings.crop_size,
                      lineart_kinds=("xdog",), lineart_probs=(1.0,),
                      shuffle_buffer=min(256, settings.num_images))
    rows = []
    for calls in settings.parallel_calls:
      config = dataclasses.replace(base, num_parallel_calls=calls)
      rows.append((calls, *time_pipeline(config, settings.batch_size,
                                         settings.num_batches, settings.warmup_batches)))

  print(f"\ntraining input, {settings.image_size}-px {settings.image_format.upper()} "
        f"records -> {settings.crop_size} crops, batch {settings.batch_size}, "
        f"{settings.num_batches} batches, {os.cpu_count()} CPU cores, "
        f"TF_CPU_ALLOCATOR_USE_BFC={os.environ['TF_CPU_ALLOCATOR_USE_BFC']}")
  print(f"{'parallel calls':>14} | {'images/s':>9} | {'images/CPU-s':>12}")
  for calls, per_second, per_cpu_second in rows:
    name = "AUTOTUNE" if calls == -1 else str(calls)
    print(f"{name:>14} | {per_second:9.1f} | {per_cpu_second:12.1f}")
  if settings.json_out:
    from tfcolor import io_utils  # pylint: disable=import-outside-toplevel
    io_utils.atomic_write_json(settings.json_out, {
        "image_size": settings.image_size, "image_format": settings.image_format,
        "crop_size": settings.crop_size, "batch_size": settings.batch_size,
        "rows": [{"parallel_calls": calls, "images_per_s": per_second,
                  "images_per_cpu_s": per_cpu_second}
                 for calls, per_second, per_cpu_second in rows]})


if __name__ == "__main__":
  flags_lib.define_dataclass_flags(InputPipelineBenchmarkSettings)
  flags.adopt_module_key_flags(flags_lib)  # Listed by --help.
  cli.run(main)
