"""Where TFLite loses to TensorFlow: each layer of the generator timed both ways.

  python -m tfcolor.benchmarks.tflite_profile [--size=256] [--repeats=3] \
      [--modes=none,dynamic_int8,int8] [--pieces=residual_conv,transpose] \
      [--nowhole] [--top=15] [--json_out=FILE] [--stem_filters=... widths]

A per-op profiler is not reachable from Python here: ai-edge-litert 2.3.0's
libLiteRt.so has the LiteRT profiler in its C API (LiteRtCompiledModelGetProfiler,
LiteRtGetProfileSummary) but no Python binding and no exported way to switch
profiling on, TF 2.21's tf.lite.Interpreter has none, and no PyPI package
ships `benchmark_model --enable_op_profiling`. So this benchmark times the
model's pieces itself: one eager forward of the generator (random weights,
`--size` square, batch 1) records every layer call and its inputs; each
distinct call (layer type, config and input shapes; the 8 mid blocks are one
piece called 8 times) is then run as its own tf.function (the plain Keras
layer, as the SavedModel runs it) and as its own TFLite model (converted from
that function under `tflite_forms`, as `tfcolor.export` converts, in each of
`--modes`; int8 pieces calibrate on the recorded inputs and take int8 I/O,
as they would inside the int8 model). TF and the TFLite modes are timed in
turn within each repeat, so load on a shared machine hits them alike.

With `--whole` (default) the whole generator is also converted as
`tfcolor.export` converts it and timed the same way. About 12 minutes at the
default widths and 256 on a loaded 2-core machine (mostly conversions).

Printed: tables sorted by the first mode's TFLite time, with per-piece ratios
TFLite / TF (> 1 = TFLite slower):
  blocks  the generator's own layers (a CSA block or the VGG hint encoder is
          one row); their sum is about one forward pass
  layers  the innermost layers (the convs and norms inside the CSA blocks)
"calls" multiplies a piece's time into its total. Pieces lose cross-layer
fusion (e.g. a ReLU fused into the op before it), so a sum is an estimate;
`tfcolor.benchmarks.deployment` times the whole exports.
"""

import collections
import dataclasses
import functools
import json
import os
import statistics
import time

from absl import app, flags, logging
import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.framework import convert_to_constants  # pylint: disable=no-name-in-module

from tfcolor import cli
from tfcolor import config as config_lib
from tfcolor import flags as tfcolor_flags
from tfcolor.benchmarks import deployment
from tfcolor.config import field
from tfcolor.models import factory
from tfcolor.models import tflite_forms
from tfcolor.serving import tflite_export
from tfcolor.serving import tflite_runner

MODES = ("none", "float16", "dynamic_int8", "int8")


@dataclasses.dataclass(frozen=True)
class TFLiteProfileSettings:
  """This benchmark's settings (each field is also its flag)."""

  size: int = field(256, "Square image side (pixels, multiple of 16).")
  repeats: int = field(3, "Timed runs of each piece per runner (after 1 warm-up).")
  modes: tuple[str, ...] = field(("none", "dynamic_int8", "int8"),
                                 f"TFLite quantisation modes to profile, of {list(MODES)}.")
  pieces: tuple[str, ...] = field(
      (), "Profile only the pieces a layer name of which contains one of these "
      "(e.g. transpose,residual_conv); empty = all.")
  whole: bool = field(True, "Also time the whole generator, converted as tfcolor.export "
                      "converts it (needs the export's memory: ~6 GB at default widths).")
  top: int = field(15, "Rows printed per table (0 = all).")
  tflite_threads: int = field(0, "LiteRT interpreter threads (0 = os.cpu_count()).")
  json_out: str = field("", "Also write every piece's figures here as JSON.")


def define_flags():
  """The model config's flags and this benchmark's; only when run as a program."""
  tfcolor_flags.define_flags(sections=("model",))
  tfcolor_flags.define_dataclass_flags(TFLiteProfileSettings)
  flags.adopt_module_key_flags(tfcolor_flags)  # Listed by --help.


@dataclasses.dataclass
class Piece:
  """One distinct layer call: the layer, its recorded arguments, how often it runs."""

  names: list  # of the layers making the same call
  layer: keras.layers.Layer
  args: tuple
  kwargs: dict
  top_level: bool
  leaf: bool = True
  calls: int = 1
  seconds: dict = dataclasses.field(default_factory=dict)

  @property
  def name(self):
    """The first layer's name, "+N" for N more layers of the same call."""
    more = len(self.names) - 1
    return self.names[0] + (f" +{more}" if more else "")

  def tensors(self):
    return [value for value in tf.nest.flatten((self.args, self.kwargs)) if tf.is_tensor(value)]

  def function(self):
    """A tf.function of the piece's tensors -> its flat outputs."""
    structure = (self.args, self.kwargs)
    flat = tf.nest.flatten(structure)
    slots = [i for i, value in enumerate(flat) if tf.is_tensor(value)]

    def run(*tensors):
      values = list(flat)
      for slot, tensor in zip(slots, tensors):
        values[slot] = tensor
      args, kwargs = tf.nest.pack_sequence_as(structure, values)
      return tf.nest.flatten(self.layer(*args, **kwargs))

    return tf.function(run, autograph=False)

  def specs(self):
    return [tf.TensorSpec(tensor.shape, tensor.dtype) for tensor in self.tensors()]


def _key(layer, args, kwargs, top_level):
  config = dict(layer.get_config())
  config.pop("name", None)
  shapes = tf.nest.map_structure(
      lambda value: (tuple(value.shape), value.dtype.name) if tf.is_tensor(value) else value,
      (args, kwargs))
  return (type(layer).__name__, json.dumps(config, sort_keys=True, default=str),
          repr(shapes), top_level)


def record_pieces(generator, inputs):
  """The distinct layer calls of one eager forward of `generator`, in call order."""
  pieces = collections.OrderedDict()
  stack = []
  layers = list(generator._flatten_layers(include_self=False, recursive=True))  # pylint: disable=protected-access

  def wrap(layer):
    original = layer.call

    def call(*args, **kwargs):
      key = _key(layer, args, kwargs, top_level=not stack)
      if stack:
        stack[-1].leaf = False
      if key in pieces:
        piece = pieces[key]
        piece.calls += 1
        if layer.name not in piece.names:
          piece.names.append(layer.name)
      else:
        piece = pieces[key] = Piece([layer.name], layer, args, kwargs, top_level=not stack)
      stack.append(piece)
      try:
        return original(*args, **kwargs)
      finally:
        stack.pop()

    object.__setattr__(layer, "call", call)

  try:
    for layer in layers:
      wrap(layer)
    generator(inputs, training=False)
  finally:
    for layer in layers:
      object.__delattr__(layer, "call")
  return list(pieces.values())


def convert_piece(piece, generator, mode):
  """The piece as TFLite bytes, traced under `tflite_forms` (int8: int8 I/O)."""
  function = piece.function()
  with tflite_forms.tflite_forms(generator, split_deep_convs=mode != "int8"):
    concrete = function.get_concrete_function(*piece.specs())
    # Weights as constants (the whole export freezes them from its SavedModel),
    # while the forms' re-cut kernels are alive.
    frozen = convert_to_constants.convert_variables_to_constants_v2(concrete)
  converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
  values = [np.asarray(tensor, np.float32) for tensor in piece.tensors()]
  tflite_export.configure_converter(converter, mode, lambda: iter([values]))
  if mode == "int8":
    converter.inference_input_type = converter.inference_output_type = tf.int8
  model_bytes = converter.convert()
  tflite_export.check_builtin_ops(model_bytes)
  return model_bytes


def _tflite_runner(model_bytes, piece, threads):
  interpreter = tflite_runner.make_interpreter(model_content=model_bytes, num_threads=threads)
  rng = np.random.default_rng(0)
  unused = list(piece.tensors())  # TFLite may order the inputs differently
  for detail in interpreter.get_input_details():
    tensor = next(t for t in unused if tuple(t.shape) == tuple(detail["shape"]))
    unused = [t for t in unused if t is not tensor]
    dtype = np.dtype(detail["dtype"])
    value = (np.asarray(tensor, dtype) if dtype.kind == "f" else
             rng.integers(-128, 128, detail["shape"]).astype(dtype))
    interpreter.set_tensor(detail["index"], value)
  return interpreter.invoke


def profile_piece(piece, convert, modes, repeats, threads):
  """Times the piece in TF and each TFLite mode (`convert(mode)` -> bytes) in turn.

  Sets `piece.seconds` to the medians.
  """
  function, tensors = piece.function(), piece.tensors()
  runners = {"tf": lambda: [np.asarray(out) for out in function(*tensors)]}
  for mode in modes:
    runners[mode] = _tflite_runner(convert(mode), piece, threads)
  times = {name: [] for name in runners}
  for _ in range(repeats + 1):  # the first round warms up
    for name, run in runners.items():
      start = time.perf_counter()
      run()
      times[name].append(time.perf_counter() - start)
  piece.seconds = {name: statistics.median(values[1:]) for name, values in times.items()}


def format_table(title, pieces, modes, top):
  """Rows sorted by total TFLite time (first mode), with ratios TFLite / TF."""
  first = modes[0]
  rows = sorted(pieces, key=lambda piece: -piece.calls * piece.seconds[first])
  header = f"{'piece':28s} {'calls':>5s} {'TF ms':>8s}" + "".join(
      f" {mode + ' ms':>15s} {'x TF':>5s}" for mode in modes)
  lines = [title, header]
  totals = collections.Counter()
  for piece in rows:
    for name, seconds in piece.seconds.items():
      totals[name] += piece.calls * seconds
  for piece in rows[:top or None] + ([None] if len(rows) > 1 else []):
    name, calls, seconds = ((piece.name, piece.calls, piece.seconds) if piece else
                            ("sum of all rows", 1, totals))
    total = {key: 1000 * calls * value for key, value in seconds.items()}
    lines.append(f"{name:28s} {calls:5d} {total['tf']:8.1f}" + "".join(
        f" {total[mode]:15.1f} {total[mode] / total['tf']:5.2f}" for mode in modes))
  return "\n".join(lines)


def profile(model_config, settings):
  """Records and times the generator's pieces; returns them and the whole (or None)."""
  keras.utils.set_random_seed(0)
  generator = factory.build_generator(model_config)
  lineart, hints = deployment.random_inputs(settings.size)  # hints: int8 needs a range
  inputs = {"lineart": tflite_runner.lineart_to_model(lineart),
            "hints": tflite_runner.hints_to_model(hints)}
  pieces = [piece for piece in record_pieces(generator, inputs)
            if not settings.pieces or any(part in name for part in settings.pieces
                                          for name in piece.names)]
  threads = settings.tflite_threads or os.cpu_count()
  whole = None
  if settings.whole:
    whole = Piece(["generator"], generator, (tf.nest.map_structure(tf.constant, inputs),),
                  {}, top_level=False)
    representative = deployment.random_representative(settings.size, 1)
    profile_piece(whole, lambda mode: tflite_export.convert_tflite(
        generator, settings.size, mode, representative if mode == "int8" else None),
                  settings.modes, settings.repeats, threads)
  progress = keras.utils.Progbar(len(pieces), unit_name="piece")
  for piece in pieces:
    logging.info("profiling %s", piece.name)
    profile_piece(piece, functools.partial(convert_piece, piece, generator),
                  settings.modes, settings.repeats, threads)
    progress.add(1)
  return pieces, whole


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  settings = tfcolor_flags.dataclass_from_flags(TFLiteProfileSettings)
  config_lib.check_size("--size", settings.size)
  unknown = sorted(set(settings.modes) - set(MODES))
  if unknown or not settings.modes:
    raise app.UsageError(f"--modes: unknown {unknown or 'none given'}; known: {list(MODES)}")
  model_config = dataclasses.replace(
      tfcolor_flags.dataclass_from_flags(config_lib.ModelConfig), vgg_weights="none")
  start = time.perf_counter()
  pieces, whole = profile(model_config, settings)
  print(f"size {settings.size}x{settings.size}, batch 1, widths stem="
        f"{model_config.stem_filters} down={model_config.down_filters} blocks="
        f"{model_config.num_mid_blocks}; median of {settings.repeats}, TFLite threads "
        f"{settings.tflite_threads or os.cpu_count()}, load average "
        f"{os.getloadavg()[0]:.2f}; ms are calls x per-call time; "
        f"{time.perf_counter() - start:.0f} s")
  if whole:
    print(format_table("whole generator (converted as tfcolor.export does)", [whole],
                       settings.modes, 0))
  print(format_table("blocks (the generator's own layers)",
                     [piece for piece in pieces if piece.top_level], settings.modes,
                     settings.top))
  print(format_table("layers (innermost)", [piece for piece in pieces if piece.leaf],
                     settings.modes, settings.top))
  if settings.json_out:
    from tfcolor import io_utils  # pylint: disable=import-outside-toplevel
    io_utils.atomic_write_json(settings.json_out, {
        "size": settings.size, "load_average": os.getloadavg()[0],
        "whole_seconds": whole.seconds if whole else None,
        "pieces": [{"layers": piece.names, "type": type(piece.layer).__name__,
                    "calls": piece.calls, "top_level": piece.top_level, "leaf": piece.leaf,
                    "input_shapes": [list(tensor.shape) for tensor in piece.tensors()],
                    "seconds": piece.seconds} for piece in pieces]})


if __name__ == "__main__":
  define_flags()
  cli.run(main)
