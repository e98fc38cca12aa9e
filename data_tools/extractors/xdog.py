"""XDoG line art (Winnemöller, Kyprianidis & Olsen 2012), OpenCV only.

On the luminance L in [0, 1]:
  U = (1 + p) * G_sigma(L) - p * G_{k sigma}(L)      (sharpened difference of Gaussians)
  T = 1                           where U >= epsilon
      1 + tanh(phi * (U - epsilon))  elsewhere     (soft threshold: antialiased lines)
Flat regions brighter than epsilon come out white whatever their colour, and
every luminance step (a drawn outline or the border between two fills) pulls U
below epsilon on its dark side: a line. Blurs reflect at the border so a blank
page stays white to its edges (`keras.ops.image.gaussian_blur` pads with zeros,
which darkens the border; see DESIGN.md). Defaults and their reasons: docs/data.md.
"""

import cv2
import numpy as np

from data_tools.extractors.base import LineArtExtractor
from data_tools.extractors.configs import XDoGConfig


class XDoGExtractor(LineArtExtractor):
  """Extended difference of Gaussians with a tanh soft threshold."""

  name = "xdog"
  # Pure OpenCV and cheap: the dataset builder runs it inside its worker
  # processes instead of batching it in the main process.
  runs_in_worker_processes = True

  def __init__(self, config=None):
    config = config if config is not None else XDoGConfig()
    if config.xdog_sigma <= 0:
      raise ValueError(f"--xdog_sigma must be > 0, got {config.xdog_sigma}")
    if config.xdog_k <= 1:
      raise ValueError(f"--xdog_k must be > 1 (the wide Gaussian is k times the "
                       f"narrow one), got {config.xdog_k}")
    if config.xdog_p < 0:
      raise ValueError(f"--xdog_p must be >= 0, got {config.xdog_p}")
    if config.xdog_phi <= 0:
      raise ValueError(f"--xdog_phi must be > 0, got {config.xdog_phi}")
    self.config = config

  def extract(self, image):
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
      raise ValueError(f"XDoG expects uint8 RGB (H, W, 3), got {image.dtype} "
                       f"{image.shape}")
    config = self.config
    # Luminance on 0..255; epsilon and phi are rescaled to match.
    luminance = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    narrow = cv2.GaussianBlur(luminance, (0, 0), config.xdog_sigma,
                              borderType=cv2.BORDER_REFLECT)
    wide = cv2.GaussianBlur(luminance, (0, 0), config.xdog_sigma * config.xdog_k,
                            borderType=cv2.BORDER_REFLECT)
    # U - epsilon in one pass; only the (few) pixels below zero get ink.
    below = cv2.addWeighted(narrow, 1.0 + config.xdog_p, wide, -config.xdog_p,
                            -255.0 * config.xdog_epsilon)
    ink = below < 0
    lineart = np.full(luminance.shape, 255, np.uint8)
    tone = 1.0 + np.tanh(below[ink] * (config.xdog_phi / 255.0))
    lineart[ink] = np.clip(tone * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return lineart

  def settings(self):
    return {"sigma": self.config.xdog_sigma, "k": self.config.xdog_k,
            "p": self.config.xdog_p, "epsilon": self.config.xdog_epsilon,
            "phi": self.config.xdog_phi}
