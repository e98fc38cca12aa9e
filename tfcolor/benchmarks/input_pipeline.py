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

from absl import flags, logging
from tfcolor import cli

FLAGS = flags.FLAGS


def _define_flags():
  flags.DEFINE_integer("num_images", 64, "Illustrations in the benchmark dataset.")
  flags.DEFINE_integer("image_size", 768, "Side of the synthesized illustrations.")
  flags.DEFINE_integer("crop_size", 512, "Training crop side.")
  flags.DEFINE_integer("batch_size", 16, "Examples per batch.")
  flags.DEFINE_enum("image_format", "png", ["png", "jpeg"],
                    "Encoding of the `image` feature in the benchmark records.")
  flags.DEFINE_integer("num_batches", 30, "Timed batches per setting.")
  flags.DEFINE_integer("warmup_batches", 5, "Untimed batches before timing.")
  flags.DEFINE_list("parallel_calls", ["1", "2", "-1"],
                    "num_parallel_calls settings to time (-1 = AUTOTUNE).")
  flags.DEFINE_string("work_dir", "", "Keep the dataset here ('' = a temporary folder).")
  flags.DEFINE_string("json_out", "", "Also write the figures here as JSON.")
  flags.DEFINE_bool("bfc_cpu_allocator", True,
                    "Set TF_CPU_ALLOCATOR_USE_BFC=true (reuse host memory instead of "
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
  # Read by TensorFlow when it first allocates host memory: set before importing it.
  os.environ["TF_CPU_ALLOCATOR_USE_BFC"] = "true" if FLAGS.bfc_cpu_allocator else "false"
  from tfcolor.config import DataConfig  # pylint: disable=import-outside-toplevel

  with tempfile.TemporaryDirectory() as scratch:
    work_dir = FLAGS.work_dir or scratch
    start = time.perf_counter()
    files = build_benchmark_records(work_dir, FLAGS.num_images, FLAGS.image_size,
                                    FLAGS.image_format)
    logging.info("built %d shards in %.0f s", len(files), time.perf_counter() - start)
    base = DataConfig(train_data=",".join(files), crop_size=FLAGS.crop_size,
                      lineart_kinds=("xdog",), lineart_probs=(1.0,),
                      shuffle_buffer=min(256, FLAGS.num_images))
    rows = []
    for calls in (int(c) for c in FLAGS.parallel_calls):
      config = dataclasses.replace(base, num_parallel_calls=calls)
      rows.append((calls, *time_pipeline(config, FLAGS.batch_size, FLAGS.num_batches,
                                         FLAGS.warmup_batches)))

  print(f"\ntraining input, {FLAGS.image_size}-px {FLAGS.image_format.upper()} "
        f"records -> {FLAGS.crop_size} crops, batch {FLAGS.batch_size}, "
        f"{FLAGS.num_batches} batches, {os.cpu_count()} CPU cores, "
        f"TF_CPU_ALLOCATOR_USE_BFC={os.environ['TF_CPU_ALLOCATOR_USE_BFC']}")
  print(f"{'parallel calls':>14} | {'images/s':>9} | {'images/CPU-s':>12}")
  for calls, per_second, per_cpu_second in rows:
    name = "AUTOTUNE" if calls == -1 else str(calls)
    print(f"{name:>14} | {per_second:9.1f} | {per_cpu_second:12.1f}")
  if FLAGS.json_out:
    from tfcolor import io_utils  # pylint: disable=import-outside-toplevel
    io_utils.atomic_write_json(FLAGS.json_out, {
        "image_size": FLAGS.image_size, "image_format": FLAGS.image_format,
        "crop_size": FLAGS.crop_size, "batch_size": FLAGS.batch_size,
        "rows": [{"parallel_calls": calls, "images_per_s": per_second,
                  "images_per_cpu_s": per_cpu_second}
                 for calls, per_second, per_cpu_second in rows]})


if __name__ == "__main__":
  _define_flags()
  cli.run(main)
