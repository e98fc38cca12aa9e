"""Per-example image metrics of an evaluation: PSNR, SSIM and hint fidelity.

Every function takes a batch and returns one float64 value per example, so the
evaluator can average over examples whatever the batch size. Images are uint8
RGB (B, H, W, 3) (the generator's output rounded as the export rounds it, and
the ground truth); hints and line art are in the model's value ranges
(DESIGN.md): hints (B, H, W, 4) = RGB in [-1, 1] where hinted, then the mask;
line art (B, H, W, 1), white paper = +1.

- `psnr`: 10 log10(255^2 / MSE) over all pixels and channels of an example,
  in float64. Identical images have MSE 0; their PSNR is capped at
  `PSNR_CAP_DB` (100 dB) rather than infinite, so one exact match cannot turn
  the mean over examples into inf (and JSON stays valid). An example whose
  error is below 255^2 * 1e-10 also scores the cap.
- `ssim`: `tf.image.ssim` with max_val 255 on the uint8 values as float32, its
  defaults: Gaussian window 11 x 11, sigma 1.5, k1 0.01, k2 0.03, 'valid'
  filtering (no padding), the mean over pixels and the three RGB channels.
  Images need at least 11 x 11 pixels. tf.image.ssim works in float32: on
  flat areas its variance terms cancel only to about 1e-4 of the result.
- `hint_pixel_error` (docs/evaluation.md): the mean over an example's hinted
  pixels of the Euclidean RGB distance, in 0-255 units, between the image and
  the hint colour at that pixel ((hint + 1) * 127.5, not rounded).
- `hint_region_error`: the hints' regions are the 4-connected components of
  the line art's paper (line art grey level, rounded to 0-255, at or above
  `paper_threshold`) that hold at least one hinted pixel; each region's
  reference colour is the mean hint colour of the hinted pixels inside it; the
  error is the mean Euclidean RGB distance to its region's reference over all
  pixels of those regions (pooled, so large regions weigh more). Hinted pixels
  on lines belong to no region and are ignored here.

The hint errors are NaN for an example without a hinted pixel (pixel error)
or without a hinted pixel on paper (region error); the evaluator skips and
counts those examples.
"""

import cv2
import numpy as np
import tensorflow as tf

MAX_VALUE = 255.0
PSNR_CAP_DB = 100.0
_MIN_MSE = MAX_VALUE**2 * 10.0**(-PSNR_CAP_DB / 10.0)  # MSE that scores the cap
SSIM_FILTER_SIZE = 11
SSIM_FILTER_SIGMA = 1.5
DEFAULT_PAPER_THRESHOLD = 128


def _check_images(images, references=None):
  images = np.asarray(images)
  if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
    raise ValueError(f"images must be uint8 (batch, height, width, 3), got "
                     f"{images.dtype} {images.shape}")
  if references is not None:
    references = np.asarray(references)
    if references.shape != images.shape or references.dtype != np.uint8:
      raise ValueError(f"reference images must be uint8 {images.shape}, got "
                       f"{references.dtype} {references.shape}")
  return images, references


def psnr(images, references):
  """(B,) PSNR in dB of uint8 images against references, capped at PSNR_CAP_DB."""
  images, references = _check_images(images, references)
  difference = images.astype(np.float64) - references.astype(np.float64)
  mse = np.mean(np.square(difference), axis=(1, 2, 3))
  return 10.0 * np.log10(MAX_VALUE**2 / np.maximum(mse, _MIN_MSE))


def ssim(images, references):
  """(B,) SSIM of uint8 images against references (tf.image.ssim, see module doc)."""
  images, references = _check_images(images, references)
  if min(images.shape[1:3]) < SSIM_FILTER_SIZE:
    raise ValueError(f"SSIM needs images of at least {SSIM_FILTER_SIZE} x "
                     f"{SSIM_FILTER_SIZE} pixels, got {images.shape[1:3]}")
  values = tf.image.ssim(tf.constant(images, tf.float32),
                         tf.constant(references, tf.float32), max_val=MAX_VALUE,
                         filter_size=SSIM_FILTER_SIZE, filter_sigma=SSIM_FILTER_SIGMA,
                         k1=0.01, k2=0.03)
  return values.numpy().astype(np.float64)


def _hint_colours_and_mask(hints, images):
  hints = np.asarray(hints, np.float64)
  if hints.shape != images.shape[:3] + (4,):
    raise ValueError(f"hints must be (batch, height, width, 4) matching the images "
                     f"{images.shape[:3]}, got {hints.shape}")
  return (hints[..., :3] + 1.0) * (MAX_VALUE / 2.0), hints[..., 3] > 0.5


def hint_pixel_error(images, hints):
  """(B,) mean RGB distance (0-255) to the hint colour on hinted pixels; NaN if none."""
  images, _ = _check_images(images)
  colours, mask = _hint_colours_and_mask(hints, images)
  errors = np.full(len(images), np.nan)
  for index, (image, colour, hinted) in enumerate(zip(images, colours, mask)):
    if hinted.any():
      distance = np.linalg.norm(image[hinted].astype(np.float64) - colour[hinted], axis=-1)
      errors[index] = distance.mean()
  return errors


def paper_mask(lineart, paper_threshold=DEFAULT_PAPER_THRESHOLD):
  """(B, H, W) bool: line art pixels whose 0-255 grey level is >= paper_threshold."""
  lineart = np.asarray(lineart, np.float64)
  if lineart.ndim == 4:
    if lineart.shape[-1] != 1:
      raise ValueError(f"line art must have 1 channel, got shape {lineart.shape}")
    lineart = lineart[..., 0]
  grey = np.clip(np.round((lineart + 1.0) * (MAX_VALUE / 2.0)), 0, MAX_VALUE)
  return grey >= paper_threshold


def hint_region_error(images, hints, lineart, paper_threshold=DEFAULT_PAPER_THRESHOLD):
  """(B,) mean RGB distance (0-255) over the hinted paper regions; NaN if none.

  See the module docstring for the definition of regions and their colours.
  """
  images, _ = _check_images(images)
  colours, mask = _hint_colours_and_mask(hints, images)
  paper = paper_mask(lineart, paper_threshold)
  if paper.shape != images.shape[:3]:
    raise ValueError(f"line art {paper.shape} does not match the images "
                     f"{images.shape[:3]}")
  errors = np.full(len(images), np.nan)
  for index in range(len(images)):
    # Label 0 is the lines (not paper); paper components are 1..count-1.
    count, labels = cv2.connectedComponents(paper[index].astype(np.uint8), connectivity=4)
    hinted_paper = mask[index] & paper[index]
    if not hinted_paper.any():
      continue
    hinted_labels = labels[hinted_paper]
    hinted_pixels = np.bincount(hinted_labels, minlength=count).astype(np.float64)
    reference = np.stack([
        np.bincount(hinted_labels, weights=colours[index][hinted_paper][:, channel],
                    minlength=count) for channel in range(3)], axis=-1)
    reference /= np.maximum(hinted_pixels, 1.0)[:, None]
    in_regions = (hinted_pixels[labels] > 0) & paper[index]
    distance = np.linalg.norm(images[index][in_regions].astype(np.float64)
                              - reference[labels[in_regions]], axis=-1)
    errors[index] = distance.mean()
  return errors
