"""Shared by the studio tests: PNG bytes, multipart forms, tiny-model studio apps."""

import io

import numpy as np
from PIL import Image

import export_testlib


def png(array, mode=None):
  buffer = io.BytesIO()
  Image.fromarray(np.asarray(array, np.uint8), mode).save(buffer, format="PNG")
  return buffer.getvalue()


def decode(data):
  return np.asarray(Image.open(io.BytesIO(data)))


def page(height=37, width=50, seed=0):
  """uint8 line art (H, W) and an RGBA hint layer with two strokes."""
  lineart, _ = export_testlib.random_inputs(1, height, width, seed=seed)
  hints = np.zeros((height, width, 4), np.uint8)
  hints[4:9, 5:20] = (230, 40, 40, 255)
  hints[20:24, 30:45] = (40, 80, 220, 255)
  return lineart[0, ..., 0], hints


def files(lineart=None, hints=None):
  """The multipart `files=` of a colorize request (bytes, or arrays made PNG)."""
  parts = {}
  for name, value in (("lineart", lineart), ("hints", hints)):
    if value is not None:
      data = value if isinstance(value, bytes) else png(value)
      parts[name] = (f"{name}.png", data, "image/png")
  return parts


class RecordingBackend:
  """Wraps a real backend and keeps the last inputs the model received."""

  def __init__(self, backend):
    self._backend = backend
    self.calls = []

  def __getattr__(self, name):
    return getattr(self._backend, name)

  def colorize_batch(self, lineart, hints):
    self.calls.append((np.array(lineart), np.array(hints)))
    return self._backend.colorize_batch(lineart, hints)
