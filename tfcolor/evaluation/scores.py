"""What an evaluation gathers over its examples, batch by batch.

`Scores` holds the per-example metrics (PSNR, SSIM, hint fidelity), the
Inception statistics of real images and outputs for FID (fed in fixed chunks
of `FID_CHUNK`, so no result depends on the batch size), the input
fingerprint (`inputs_sha256`) and the first rows of the grid.
"""

import hashlib
import math

from absl import logging
import numpy as np

from tfcolor import visualize
from tfcolor.evaluation import fid as fid_lib
from tfcolor.evaluation import metrics

FID_CHUNK = 50  # Images per Inception call (as `tfcolor.fid`'s default batch).


class InceptionStatistics:
  """Feature statistics of uint8 images fed in fixed chunks of FID_CHUNK.

  Fixed chunks make the statistics identical whatever batches the images
  arrive in (Inception's float results can differ between batch sizes).
  """

  def __init__(self, extractor):
    self._extractor = extractor
    self._pending = []
    self.statistics = fid_lib.StreamingStatistics()

  def add(self, images):
    self._pending.extend(images)
    while len(self._pending) >= FID_CHUNK:
      self._flush(FID_CHUNK)

  def _flush(self, count):
    chunk, self._pending = self._pending[:count], self._pending[count:]
    self.statistics.update(self._extractor(np.stack(chunk) if same_shape(chunk)
                                           else chunk))

  def finish(self):
    if self._pending:
      self._flush(len(self._pending))
    return self.statistics


def same_shape(images):
  return len({image.shape for image in images}) == 1


class InputFingerprint:
  """sha256 of every example's key, image, line art and hints, in order."""

  def __init__(self):
    self._hash = hashlib.sha256()

  def add(self, keys, images, lineart, hints):
    for key, *arrays in zip(keys, images, lineart, hints):
      self._hash.update(len(key).to_bytes(4, "little") + key)
      for array in arrays:
        array = np.ascontiguousarray(array, np.float32)
        self._hash.update(np.asarray(array.shape, np.int64).tobytes() + array.tobytes())

  def hexdigest(self):
    return self._hash.hexdigest()


def mean(values):
  """Mean of the finite values (NaN marks skipped examples), or None."""
  values = [value for value in values if not math.isnan(value)]
  return math.fsum(values) / len(values) if values else None


PER_EXAMPLE = ("psnr", "ssim", "pixel_error", "region_error",
                "ground_truth_pixel_error", "ground_truth_region_error")


class Scores:
  """Everything gathered over the evaluated examples, batch by batch."""

  def __init__(self, eval_config, feature_extractor):
    self._threshold = eval_config.hint_region_threshold
    self._grid_rows = eval_config.grid_rows
    self._extractor = feature_extractor
    self.count = 0
    self.per_example = {name: [] for name in PER_EXAMPLE}
    self.fingerprint = InputFingerprint()
    self.grid_rows = []
    self.real_stats = self.fake_stats = None
    if feature_extractor is not None:
      self.real_stats = InceptionStatistics(feature_extractor)
      self.fake_stats = InceptionStatistics(feature_extractor)

  def add(self, batch, output):
    """`batch`: numpy arrays of one batch; `output`: the generator's, in [-1, 1]."""
    fake, real = visualize.to_uint8(output), visualize.to_uint8(batch["image"])
    hints, lineart = batch["hints"], batch["lineart"]
    scores = self.per_example
    scores["psnr"].extend(metrics.psnr(fake, real))
    scores["ssim"].extend(metrics.ssim(fake, real))
    for prefix, images in (("", fake), ("ground_truth_", real)):
      scores[prefix + "pixel_error"].extend(metrics.hint_pixel_error(images, hints))
      scores[prefix + "region_error"].extend(
          metrics.hint_region_error(images, hints, lineart, self._threshold))
    self.fingerprint.add(batch["key"], batch["image"], lineart, hints)
    if self.real_stats is not None:
      self.real_stats.add(list(real))
      self.fake_stats.add(list(fake))
    for index in range(min(len(fake), self._grid_rows - len(self.grid_rows))):
      self.grid_rows.append({"lineart": lineart[index], "hints": hints[index],
                             "output": output[index], "image": batch["image"][index]})
    self.count += len(fake)

  def fid(self, label):
    """(FID or None, comparable_with_papers or None)."""
    if self.real_stats is None:
      return None, None
    comparable = bool(self._extractor.comparable_with_papers)
    if self.count < 2:
      logging.warning("FID skipped: it needs at least 2 examples, have %d", self.count)
      return None, comparable
    real, fake = self.real_stats.finish().result(), self.fake_stats.finish().result()
    value = fid_lib.frechet_distance(real.mu, real.sigma, fake.mu, fake.sigma)
    logging.info("FID %.4f on %d real and %d generated images (%s; %s)", value,
                 real.num, fake.num, label, "comparable with papers" if comparable
                 else "NOT comparable with published FIDs")
    if self.count < 2048:
      logging.warning("FID from %d images (< 2048, the feature size) is biased upward; "
                      "use a few thousand for numbers worth comparing", self.count)
    return value, comparable

  def hint_fidelity(self):
    fidelity = {name: mean(self.per_example[name]) for name in PER_EXAMPLE[2:]}
    without_hints = sum(math.isnan(v) for v in self.per_example["pixel_error"])
    fidelity.update(
        examples_with_hints=self.count - without_hints,
        examples_with_hinted_regions=sum(
            not math.isnan(v) for v in self.per_example["region_error"]),
        examples_without_hints=without_hints)
    return fidelity
