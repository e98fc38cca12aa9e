"""Fréchet Inception Distance: streaming statistics and a stable distance.

The distance between N(mu1, sigma1) and N(mu2, sigma2) is

  ||mu1 - mu2||^2 + tr(sigma1) + tr(sigma2) - 2 tr(sqrt(sigma1 sigma2)).

How the square-root term is computed (no scipy): sigma1 sigma2 has the same
eigenvalues as the symmetric positive semi-definite matrix
M = sqrt(sigma1) sigma2 sqrt(sigma1), so tr(sqrt(sigma1 sigma2)) is the sum of
the square roots of M's eigenvalues. Both square roots come from
`np.linalg.eigh`, which is stable for the rank-deficient covariances FID meets
(fewer samples than 2048 dimensions). As in the reference implementations
(TTUR `calculate_frechet_distance`), a result that is not finite is retried with
`eps` added to both diagonals, and rounding that makes an eigenvalue of M
negative counts as an imaginary component: small ones (sqrt(-lambda) <= 1e-3,
the reference's tolerance) are dropped, larger ones raise.

Statistics are accumulated in float64 with the Chan et al. merge of (count,
mean, centred sum of outer products), so memory is O(dim^2) whatever the
number of images. The covariance uses ddof=1, like `np.cov` in the references.
"""

import io
import os
from typing import Iterator, List, NamedTuple, Optional, Tuple

import numpy as np
from absl import logging

from tfcolor import io_utils

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff")
IMAGINARY_ATOL = 1e-3  # TTUR's tolerance on the imaginary part of sqrtm.


class Statistics(NamedTuple):
  """Mean, covariance and number of samples (None when a file did not say)."""
  mu: np.ndarray
  sigma: np.ndarray
  num: Optional[int]


class StreamingStatistics:
  """Running mean and covariance of feature vectors fed in batches of any size."""

  def __init__(self, dim=None):
    self.dim = dim
    self.num = 0
    self._mean = None
    self._centred_outer_sum = None  # sum_i (x_i - mean)(x_i - mean)^T

  def update(self, features):
    """Adds a (B, dim) batch of feature vectors."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
      raise ValueError(f"features must be (batch, dim), got shape {features.shape}")
    if self.dim is None:
      self.dim = features.shape[1]
    if features.shape[1] != self.dim:
      raise ValueError(f"features have {features.shape[1]} dims, expected {self.dim}")
    if not features.shape[0]:
      return
    if not np.all(np.isfinite(features)):
      raise ValueError("features contain NaN or Inf")
    batch_mean = features.mean(axis=0)
    centred = features - batch_mean
    self._merge(features.shape[0], batch_mean, centred.T @ centred)

  def merge(self, other):
    """Adds the samples summarised by another StreamingStatistics."""
    if other.num:
      if self.dim is not None and other.dim != self.dim:
        raise ValueError(f"cannot merge statistics of {other.dim} and {self.dim} dims")
      self.dim = other.dim
      # pylint: disable-next=protected-access
      self._merge(other.num, other._mean, other._centred_outer_sum)

  def _merge(self, num_b, mean_b, outer_b):
    if not self.num:
      self.num, self._mean, self._centred_outer_sum = num_b, mean_b.copy(), outer_b.copy()
      return
    num_a = self.num
    total = num_a + num_b
    delta = mean_b - self._mean
    self._mean += delta * (num_b / total)
    self._centred_outer_sum += outer_b + np.outer(delta, delta) * (num_a * num_b / total)
    self.num = total

  @property
  def mean(self):
    if not self.num:
      raise ValueError("no samples yet")
    return self._mean.copy()

  @property
  def covariance(self):
    if self.num < 2:
      raise ValueError(f"a covariance needs at least 2 samples, have {self.num}")
    return self._centred_outer_sum / (self.num - 1)

  def result(self):
    return Statistics(self.mean, self.covariance, self.num)


def _psd_sqrt(matrix):
  values, vectors = np.linalg.eigh(matrix)
  return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def _trace_sqrt_product(sigma1, sigma2):
  """tr(sqrt(sigma1 sigma2)) and the largest imaginary part rounding produced."""
  sqrt_sigma1 = _psd_sqrt(sigma1)
  product = sqrt_sigma1 @ sigma2 @ sqrt_sigma1
  eigenvalues = np.linalg.eigvalsh((product + product.T) / 2)
  imaginary = np.sqrt(np.clip(-eigenvalues, 0.0, None))
  return np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None))), float(np.max(imaginary, initial=0.0))


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
  """Fréchet distance between two Gaussians (see the module docstring)."""
  mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
  sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
  sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
  if mu1.shape != mu2.shape:
    raise ValueError(f"mean vectors differ in shape: {mu1.shape} vs {mu2.shape}")
  if sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
    raise ValueError(f"covariances {sigma1.shape}, {sigma2.shape} do not match means {mu1.shape}")
  for name, value in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
    if not np.all(np.isfinite(value)):
      raise ValueError(f"{name} contains NaN or Inf")
  sigma1, sigma2 = (sigma1 + sigma1.T) / 2, (sigma2 + sigma2.T) / 2
  try:
    trace_sqrt, imaginary = _trace_sqrt_product(sigma1, sigma2)
    finite = np.isfinite(trace_sqrt)
  except np.linalg.LinAlgError:
    finite = False
  if not finite:
    logging.warning("FID: singular product; adding %g to the covariance diagonals", eps)
    offset = np.eye(sigma1.shape[0]) * eps
    trace_sqrt, imaginary = _trace_sqrt_product(sigma1 + offset, sigma2 + offset)
  if imaginary > IMAGINARY_ATOL:
    raise ValueError(f"FID: imaginary component {imaginary:g} in sqrt(sigma1 sigma2)")
  diff = mu1 - mu2
  value = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)
  if value < 0:
    # The exact distance is >= 0; identical statistics give 0 up to the
    # rounding of the matrix square root, which can land just below.
    logging.info("FID: %g rounded to 0 (below 0 only through the rounding of the "
                 "matrix square root; the statistics are (nearly) identical)", value)
    value = 0.0
  return value


def save_stats(path, mu, sigma, num):
  """Writes `mu`, `sigma` (the reference tools' keys) and `num` to a .npz, atomically."""
  buffer = io.BytesIO()
  np.savez(buffer, mu=np.asarray(mu, np.float64), sigma=np.asarray(sigma, np.float64),
           num=np.int64(num))
  io_utils.atomic_write_bytes(path, buffer.getvalue())


def load_stats(path):
  """Reads a .npz with `mu` and `sigma` (and optionally `num`) as Statistics."""
  try:
    with np.load(path) as data:
      missing = [key for key in ("mu", "sigma") if key not in data.files]
      if missing:
        raise ValueError(f"{path}: FID statistics need keys mu and sigma; missing {missing}")
      mu, sigma = data["mu"].astype(np.float64), data["sigma"].astype(np.float64)
      num = int(data["num"]) if "num" in data.files else None
  except (OSError, EOFError) as error:
    raise ValueError(f"{path}: not a readable .npz file ({error})") from error
  if mu.ndim != 1 or sigma.shape != mu.shape * 2:
    raise ValueError(f"{path}: mu {mu.shape} and sigma {sigma.shape} are not (d,) and (d, d)")
  return Statistics(mu, sigma, num)


def list_images(folder):
  """Image files under `folder` (recursively), sorted, by extension."""
  if not os.path.isdir(folder):
    raise ValueError(f"{folder}: not a folder")
  paths = []
  for root, dirs, files in os.walk(folder):
    dirs.sort()
    paths.extend(os.path.join(root, name) for name in sorted(files)
                 if name.lower().endswith(IMAGE_EXTENSIONS))
  return paths


def read_image_batches(paths, batch_size) -> Iterator[Tuple[List[np.ndarray], List[str]]]:
  """Yields lists of uint8 RGB images (sizes may differ); unreadable files are logged, skipped."""
  from PIL import Image  # pylint: disable=import-outside-toplevel

  batch, skipped = [], []
  for path in paths:
    try:
      with Image.open(path) as image:
        batch.append(np.asarray(image.convert("RGB"), dtype=np.uint8))
    except (OSError, ValueError, Image.DecompressionBombError) as error:
      logging.warning("FID: skipping unreadable image %s (%s)", path, error)
      skipped.append(path)
    if len(batch) == batch_size:
      yield batch, skipped
      batch, skipped = [], []
  if batch or skipped:
    yield batch, skipped


def statistics_from_folder(folder, extractor, batch_size=50):
  """Statistics of a folder of images (nested folders included)."""
  paths = list_images(folder)
  if not paths:
    raise ValueError(f"{folder}: no image files ({', '.join(IMAGE_EXTENSIONS)})")
  logging.info("FID: %d image files in %s", len(paths), folder)
  num_skipped = 0

  def batches():
    nonlocal num_skipped
    for images, skipped in read_image_batches(paths, batch_size):
      num_skipped += len(skipped)
      yield images

  stats = StreamingStatistics()
  for step, images in enumerate(batches(), 1):
    if images:
      stats.update(extractor(images))
    if step % 10 == 0:
      logging.info("FID: %s: %d of %d images", folder, stats.num, len(paths))
  if stats.num < 2:
    raise ValueError(f"{folder}: {stats.num} readable images; FID needs at least 2")
  result = stats.result()
  if num_skipped:
    logging.warning("FID: %s: skipped %d unreadable files of %d", folder, num_skipped, len(paths))
  logging.info("FID: %s: statistics of %d images", folder, result.num)
  return result


def statistics_from_path(path, extractor_fn, batch_size=50):
  """Statistics from a .npz file or a folder; `extractor_fn()` builds the extractor lazily."""
  if path.endswith(".npz"):
    return load_stats(path)
  return statistics_from_folder(path, extractor_fn(), batch_size)
