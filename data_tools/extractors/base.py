"""The interface every line art extractor implements.

An extractor turns colour illustrations into line art of the same size: uint8
RGB (H, W, 3) in, uint8 grayscale (H, W) out, white paper (255) with dark lines.
"""

import abc


class ExtractorUnavailableError(RuntimeError):
  """The extractor cannot run here (e.g. its weights file was not given)."""


class LineArtExtractor(abc.ABC):
  """Base class: subclasses set `name` and implement `extract`."""

  name = None  # The kind written to the `lineart/<name>` feature.
  # True for cheap CPU extractors the builder may run inside its worker processes;
  # False (neural networks) runs them batched in the main process, loaded once.
  runs_in_worker_processes = False

  @abc.abstractmethod
  def extract(self, image):
    """uint8 RGB (H, W, 3) -> uint8 grayscale line art (H, W), white paper."""

  def extract_batch(self, images):
    """A list of images (sizes may differ) -> list of line art; override to batch."""
    return [self.extract(image) for image in images]

  def settings(self):
    """JSON-friendly settings, recorded in the dataset's report.json."""
    return {}
