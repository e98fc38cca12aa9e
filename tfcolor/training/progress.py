"""How a run reports progress: TensorBoard scalars and images, log lines.

TensorBoard events go to `model_dir/train/` (only the chief writes; other
workers get a no-op writer). Sample grids (`visualize.sample_grid`) go to
`model_dir/samples/` (`run_folder.sample_path`).
"""

import os

import numpy as np
import tensorflow as tf


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
