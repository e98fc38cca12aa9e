"""What a run shows people: TensorBoard scalars and images, sample PNGs, log lines.

TensorBoard events go to `model_dir/train/` (only the chief writes; other
workers get a no-op writer). Sample grids go to `model_dir/samples/`.
"""

import os

import numpy as np
import tensorflow as tf

from tfcolor import visualize

GRID_COLUMNS = ("line art", "hints", "output", "ground truth")
SAMPLES_DIR = "samples"


def sample_grid(lineart, hints, output, image, min_tile_size=128):
  """uint8 grid, one row per example: line art | hints | output | ground truth.

  Arguments are batches (B, H, W, C) in the model's value ranges. Tiles
  smaller than `min_tile_size` are enlarged by an integer factor (nearest
  neighbour, so pixels stay sharp) to be easy to look at.
  """
  scale = max(1, -(-min_tile_size // max(1, min(image.shape[1:3]))))

  def enlarge(tile):
    return np.repeat(np.repeat(tile, scale, axis=0), scale, axis=1)

  rows = []
  for index in range(len(image)):
    rows.append([enlarge(visualize.to_uint8(lineart[index])),
                 enlarge(visualize.hints_to_uint8(hints[index])),
                 enlarge(visualize.to_uint8(output[index])),
                 enlarge(visualize.to_uint8(image[index]))])
  return visualize.image_grid(rows, column_titles=GRID_COLUMNS)


def sample_path(model_dir, step=None):
  """model_dir/samples/step_000123.png, or final.png when step is None."""
  name = "final.png" if step is None else f"step_{step:06d}.png"
  return os.path.join(model_dir, SAMPLES_DIR, name)


def format_duration(seconds):
  seconds = int(max(0, seconds))
  hours, rest = divmod(seconds, 3600)
  minutes, seconds = divmod(rest, 60)
  return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def format_log_line(step, total_steps, metrics, images_per_second, eta_seconds):
  """'step 100/2000 (5%) d_loss 1.234 ... | 12.3 img/s | ETA 2:34'."""
  width = len(str(total_steps))
  percent = 100.0 * step / max(1, total_steps)
  values = " ".join(f"{name} {value:.4g}" for name, value in metrics.items())
  return (f"step {step:>{width}}/{total_steps} ({percent:.0f}%) {values} | "
          f"{images_per_second:.1f} img/s | ETA {format_duration(eta_seconds)}")


class Summaries:
  """TensorBoard writer for one run (a no-op on non-chief workers)."""

  def __init__(self, model_dir, enabled=True):
    if enabled:
      self.writer = tf.summary.create_file_writer(os.path.join(model_dir, "train"))
    else:
      self.writer = tf.summary.create_noop_writer()

  def scalars(self, step, values, prefix=""):
    with self.writer.as_default(step=step):
      for name, value in values.items():
        tf.summary.scalar(prefix + name, float(value))

  def image(self, step, name, grid):
    with self.writer.as_default(step=step):
      tf.summary.image(name, np.asarray(grid)[None], max_outputs=1)

  def flush(self):
    self.writer.flush()

  def close(self):
    self.writer.close()


class MetricAverager:
  """Averages the host-side step metrics between two log lines."""

  def __init__(self):
    self._sums = {}
    self._count = 0

  def add(self, metrics):
    for name, value in metrics.items():
      self._sums[name] = self._sums.get(name, 0.0) + float(value)
    self._count += 1

  def result_and_reset(self):
    result = {name: total / max(1, self._count) for name, total in self._sums.items()}
    self._sums, self._count = {}, 0
    return result
