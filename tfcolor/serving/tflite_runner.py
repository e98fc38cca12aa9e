"""Runs a `tfcolor.export` TFLite model on uint8 images of any size.

The TFLite model has one fixed square size S and float32 I/O in the model's
value ranges (see `export`), or, for int8 models exported with
`--int8_io=uint8`, the same values as quantised uint8 tensors (`run_float`
applies each tensor's scale and zero point, so callers see float either way).
Around it this runner does what the SavedModel
does in its graph, with the same conversion functions (`signature`): the line
art is scaled to fit S x S keeping its aspect ratio (area filter for line art,
nearest for hints so hint colours stay exact), padded with white paper / no
hints, colourised, cropped and scaled back to the input size.

Uses the LiteRT interpreter (`ai-edge-litert`) when installed, else
`tf.lite.Interpreter` (deprecated in TF 2.21).
"""

import numpy as np

LINEART_KEY, HINTS_KEY, IMAGE_KEY = "lineart", "hints", "image"


def interpreter_class():
  """LiteRT's Interpreter if `ai-edge-litert` is installed, else TF's."""
  try:
    from ai_edge_litert.interpreter import Interpreter  # pylint: disable=import-outside-toplevel
  except ImportError:
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    Interpreter = tf.lite.Interpreter  # pylint: disable=invalid-name
  return Interpreter


def make_interpreter(model_path=None, model_content=None, num_threads=None):
  """An allocated interpreter for a .tflite file or flatbuffer bytes."""
  interpreter = interpreter_class()(model_path=model_path, model_content=model_content,
                                    num_threads=num_threads)
  interpreter.allocate_tensors()
  return interpreter


def op_names(model_bytes):
  """Names of the operators a TFLite model uses (e.g. CONV_2D, FlexConv2D)."""
  interpreter = interpreter_class()(model_content=model_bytes)
  return sorted({op["op_name"] for op in interpreter._get_ops_details()})  # pylint: disable=protected-access


def undelegated_ops(model_bytes):
  """[(index, op name)] of the ops the default XNNPack delegate leaves to TFLite's kernels.

  Each op is offered to the delegate alone (node fusion off), so every
  delegated op becomes one DELEGATE node producing its outputs; the others
  run in the reference kernels and split the delegated graph.
  """
  interpreter = interpreter_class()(model_content=model_bytes,
                                    experimental_disable_delegate_node_fusion=True)
  interpreter.allocate_tensors()
  ops = interpreter._get_ops_details()  # pylint: disable=protected-access
  delegated = {int(tensor) for op in ops if op["op_name"] == "DELEGATE"
               for tensor in op["outputs"]}
  return [(op["index"], op["op_name"]) for op in ops if op["op_name"] != "DELEGATE"
          and not delegated & {int(tensor) for tensor in op["outputs"]}]


class TFLiteColorizer:
  """A .tflite colorizer: `colorize(lineart_u8, hints_u8)` -> uint8 image.

  Args:
    model_path: path of a `tfcolor.export --tflite` model (or None).
    model_content: its bytes instead of a path.
    num_threads: interpreter threads (None = its default).
  """

  def __init__(self, model_path=None, model_content=None, num_threads=None):
    self.interpreter = make_interpreter(model_path, model_content, num_threads)
    signatures = self.interpreter.get_signature_list()
    if len(signatures) != 1:
      raise ValueError(f"{model_path or 'TFLite model'}: expected one signature, got "
                       f"{sorted(signatures)}; was it made by tfcolor.export?")
    (self.signature_key, io_names), = signatures.items()
    if set(io_names["inputs"]) != {LINEART_KEY, HINTS_KEY}:
      raise ValueError(f"{model_path or 'TFLite model'}: inputs {io_names['inputs']}, "
                       f"expected {[HINTS_KEY, LINEART_KEY]}")
    self._runner = self.interpreter.get_signature_runner(self.signature_key)
    self._input_details = self._runner.get_input_details()
    self._output_details = self._runner.get_output_details()
    self.size = int(self._input_details[LINEART_KEY]["shape"][1])
    # "float32", or "uint8" for int8 models with quantised I/O.
    self.io_type = np.dtype(self._input_details[LINEART_KEY]["dtype"]).name

  def io_spec(self):
    """What the browser's runner needs and LiteRT.js does not report (JSON-ready).

    {"size": S, "ioType": "float32" | "uint8", "quantization": None, or for
    uint8 I/O {"lineart" | "hints" | "image": {"scale", "zeroPoint"}}}: the
    `quantization` option of litert_runtime.js's `loadColorizer`.
    """
    quantization = None
    if self.io_type == "uint8":
      quantization = {}
      for key, details in ((LINEART_KEY, self._input_details[LINEART_KEY]),
                           (HINTS_KEY, self._input_details[HINTS_KEY]),
                           (IMAGE_KEY, self._output_details[IMAGE_KEY])):
        scale, zero_point = details["quantization"]
        quantization[key] = {"scale": float(scale), "zeroPoint": int(zero_point)}
    return {"size": self.size, "ioType": self.io_type, "quantization": quantization}

  def run_float(self, lineart, hints):
    """Model-range float inputs (1, S, S, 1) and (1, S, S, 4) -> (1, S, S, 3) float."""
    outputs = self._runner(**{
        LINEART_KEY: quantize(lineart, self._input_details[LINEART_KEY]),
        HINTS_KEY: quantize(hints, self._input_details[HINTS_KEY])})
    return dequantize(outputs[IMAGE_KEY], self._output_details[IMAGE_KEY])

  def colorize(self, lineart, hints=None):
    """uint8 line art (H, W) or (H, W, 1), RGBA hints (H, W, 4) or None -> uint8 (H, W, 3)."""
    from PIL import Image  # pylint: disable=import-outside-toplevel
    lineart = np.asarray(lineart, np.uint8)
    if lineart.ndim == 3:
      lineart = lineart[..., 0]
    height, width = lineart.shape
    if hints is None:
      hints = np.zeros((height, width, 4), np.uint8)
    hints = np.asarray(hints, np.uint8)
    if hints.shape != (height, width, 4):
      raise ValueError(f"hints must be ({height}, {width}, 4) RGBA like the line art, "
                       f"got {hints.shape}")
    size = self.size
    scale = min(size / height, size / width)
    fit_h, fit_w = max(1, round(height * scale)), max(1, round(width * scale))
    lineart_fit = resize_separable(
        lineart, fit_h, fit_w, Image.Resampling.BOX if scale < 1 else Image.Resampling.BICUBIC)
    hints_fit = np.asarray(Image.fromarray(hints, "RGBA").resize(
        (fit_w, fit_h), Image.Resampling.NEAREST))
    lineart_canvas = np.full((size, size), 255, np.uint8)
    hints_canvas = np.zeros((size, size, 4), np.uint8)
    lineart_canvas[:fit_h, :fit_w] = lineart_fit
    hints_canvas[:fit_h, :fit_w] = hints_fit
    image = self.run_float(lineart_to_model(lineart_canvas[None, ..., None]),
                           hints_to_model(hints_canvas[None]))
    image = image_to_uint8(image[0, :fit_h, :fit_w])
    if (fit_h, fit_w) != (height, width):
      image = resize_separable(image, height, width, Image.Resampling.BICUBIC)
    return image


def resize_separable(image, height, width, resample):
  """Pillow's resize of a uint8 L or RGB array, first along x, then along y.

  Two one-axis resizes instead of one: Pillow picks the order of its two
  passes by itself (and the order changes the 8-bit rounding), so this fixes
  it for the browser's copy of these steps (studio/static/ondevice/model_io.js).
  """
  from PIL import Image  # pylint: disable=import-outside-toplevel
  picture = Image.fromarray(np.asarray(image, np.uint8))
  if picture.width != width:
    picture = picture.resize((width, picture.height), resample)
  if picture.height != height:
    picture = picture.resize((width, height), resample)
  return np.asarray(picture)


def quantize(values, details):
  """Float values -> an input tensor's dtype (through its scale and zero point if integer)."""
  dtype = np.dtype(details["dtype"])
  if dtype.kind == "f":
    return np.asarray(values, dtype)
  scale, zero_point = details["quantization"]
  limits = np.iinfo(dtype)
  quantized = np.round(np.asarray(values, np.float32) / scale) + zero_point
  return np.clip(quantized, limits.min, limits.max).astype(dtype)


def dequantize(values, details):
  """An output tensor -> float32 (through its scale and zero point if integer)."""
  values = np.asarray(values)
  if values.dtype.kind == "f":
    return values.astype(np.float32)
  scale, zero_point = details["quantization"]
  return (values.astype(np.float32) - zero_point) * scale


# The same formulas as the SavedModel's graph (`signature.lineart_to_model`,
# ...), in numpy so the TFLite path needs no TensorFlow; tests check they agree.


def lineart_to_model(lineart):
  return np.asarray(lineart, np.float32) / 127.5 - 1.0


def hints_to_model(hints):
  hints = np.asarray(hints)
  mask = (hints[..., 3:4] > 0).astype(np.float32)
  rgb = (hints[..., :3].astype(np.float32) / 127.5 - 1.0) * mask
  return np.concatenate([rgb, mask], axis=-1)


def image_to_uint8(image):
  return np.clip(np.round((np.asarray(image, np.float32) + 1.0) * 127.5), 0,
                 255).astype(np.uint8)
