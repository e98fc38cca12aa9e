"""One small class per kind of model, all behind `colorize_batch` (uint8 in, uint8 out).

The studio colours every page through `page_scaling.colorize_page(backend, ...)`;
what differs between a training run, a SavedModel and a .tflite file is only
how a batch reaches the model, the size rules the page is told about, and
whether CSA attention maps can be read (only from a run's Keras generator).
"""

import os
import re

import numpy as np

from tfcolor.models.generator import SIZE_MULTIPLE
from tfcolor.serving import colorize_files

KIND_MODEL_DIR, KIND_SAVED_MODEL, KIND_TFLITE = "model_dir", "saved_model", "tflite"
_VERSION_RE = re.compile(r"^\d+$")


class Backend:
  """The interface: `colorize_batch`, `attention_maps` and the facts `/api/health` shows."""

  kind = None
  fixed_size = None  # The one square size the model runs at (.tflite), else None.
  # The .tflite file a page may download to colour on its own device, else None.
  on_device_model = None

  def __init__(self, path):
    self.path = path

  @property
  def attention_blocks(self):
    """How many CSA attention maps `attention_maps` returns (0: none)."""
    return 0

  def colorize_batch(self, lineart, hints):
    """uint8 line art [B, H, W, 1] and RGBA hints [B, H, W, 4] -> uint8 [B, H, W, 3]."""
    raise NotImplementedError

  def attention_maps(self, lineart, hints):
    """float32 [blocks, ceil(H/16), ceil(W/16)] in [0, 1] for one page [H, W, 1], [H, W, 4]."""
    raise ValueError(f"a {self.kind} model has no attention maps: start the studio on "
                     "the training run folder of a CSA model to see them")


class SavedModelBackend(Backend):
  """A SavedModel version folder, through its serving_default signature."""

  kind = KIND_SAVED_MODEL

  def __init__(self, path):
    super().__init__(path)
    self._colorizer = colorize_files.SavedModelColorizer(path)

  def colorize_batch(self, lineart, hints):
    return self._colorizer.colorize_batch(lineart, hints)


class TFLiteBackend(Backend):
  """A .tflite file: one fixed size; its runner scales each page to it and back."""

  kind = KIND_TFLITE

  def __init__(self, path):
    super().__init__(path)
    from tfcolor.serving import tflite_runner  # pylint: disable=import-outside-toplevel
    self._colorizer = tflite_runner.TFLiteColorizer(model_path=path)
    self.fixed_size = self._colorizer.size
    self.on_device_model = path

  @property
  def io_spec(self):
    """The model's size, I/O type and quantisation, for the browser's runner."""
    return self._colorizer.io_spec()

  def colorize_batch(self, lineart, hints):
    return np.stack([self._colorizer.colorize(page, page_hints)
                     for page, page_hints in zip(lineart, hints)])


class ModelDirBackend(Backend):
  """A training run's latest checkpoint, loaded as `tfcolor.export` loads it.

  Colours with the same graph as the exported SavedModel (`signature`), and
  reads the CSA blocks' attention maps from the Keras generator.
  """

  kind = KIND_MODEL_DIR

  def __init__(self, path):
    super().__init__(path)
    # pylint: disable=import-outside-toplevel
    import tensorflow as tf
    from tfcolor.serving import model_loading, signature

    loaded = model_loading.load_generator(path)
    self.generator = loaded.generator
    self.step = loaded.step
    module = signature.ColorizationModule(self.generator)
    specs = signature.input_specs()
    in_spec = [specs[signature.LINEART_KEY], specs[signature.HINTS_KEY]]
    self._colorize = tf.function(module.colorize_uint8, input_signature=in_spec)
    self._attention = None
    if getattr(self.generator, "mid_block", None) == "csa":
      self._attention = tf.function(self._padded_attention, input_signature=in_spec)

  def _padded_attention(self, lineart, hints):
    """Attention maps of uint8 inputs, padded like the serving graph pads them."""
    # pylint: disable=import-outside-toplevel
    import tensorflow as tf
    from tfcolor.serving import signature
    height, width = tf.shape(lineart)[1], tf.shape(lineart)[2]
    pad_bottom, pad_right = signature.pad_amounts(height, width)
    paddings = [[0, 0], [0, pad_bottom], [0, pad_right], [0, 0]]
    lineart = tf.pad(lineart, paddings, constant_values=255)  # white paper
    hints = tf.pad(hints, paddings)
    maps = self.generator.attention_maps({
        signature.LINEART_KEY: signature.lineart_to_model(lineart),
        signature.HINTS_KEY: signature.hints_to_model(hints)})
    return tf.stack([tf.cast(m[0, ..., 0], tf.float32) for m in maps])

  @property
  def attention_blocks(self):
    return self.generator.num_mid_blocks if self._attention is not None else 0

  def colorize_batch(self, lineart, hints):
    return self._colorize(lineart, hints)["image"].numpy()

  def attention_maps(self, lineart, hints):
    if self._attention is None:
      return super().attention_maps(lineart, hints)
    height, width = lineart.shape[:2]
    maps = self._attention(lineart[None], hints[None]).numpy()
    cells = lambda side: -(-side // SIZE_MULTIPLE)  # ceil
    return maps[:, :cells(height), :cells(width)]


def _highest_version(path):
  versions = [int(name) for name in os.listdir(path) if _VERSION_RE.match(name)
              and os.path.isfile(os.path.join(path, name, "saved_model.pb"))]
  return os.path.join(path, str(max(versions))) if versions else None


def load_backend(path):
  """The backend for a model path of any kind; ValueError naming --model otherwise."""
  if path.endswith(".tflite"):
    if not os.path.isfile(path):
      raise FileNotFoundError(f"--model={path}: no such .tflite file")
    return TFLiteBackend(path)
  if not os.path.isdir(path):
    raise FileNotFoundError(f"--model={path} does not exist")
  if os.path.isfile(os.path.join(path, "saved_model.pb")):
    return SavedModelBackend(path)
  if os.path.isfile(os.path.join(path, "config.json")):
    return ModelDirBackend(path)
  version = _highest_version(path)
  if version:
    return SavedModelBackend(version)
  raise ValueError(f"--model={path} is none of: a training run folder (config.json + "
                   "checkpoints/), a SavedModel (saved_model.pb), an export folder of "
                   "numbered SavedModels, a .tflite file")
