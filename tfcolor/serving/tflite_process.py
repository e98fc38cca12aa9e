"""The TFLite conversion in a spawned child process, so its memory peak is its own.

The converter holds several copies of the weights at once (docs/deployment.md,
Export memory); run beside the exporting process's Keras model, its peak would
add to that model's. `tfcolor.export` and the benchmarks free the model
(`release_memory`) and convert here; the child writes the .tflite atomically
and answers with None or its error in one line.
"""

import ctypes
import gc
import multiprocessing

from tfcolor.serving import tflite_export


def release_memory():
  """Collects garbage and returns freed heap memory to the system (glibc's malloc_trim).

  Before a conversion in a child process, so that the parent's freed Keras
  model does not stay resident beside the child's peak (default widths:
  1.62 GB with the model, 0.93 GB after `gc.collect()`, 0.62 GB after the trim).
  """
  gc.collect()
  try:
    ctypes.CDLL("libc.so.6").malloc_trim(0)
  except (OSError, AttributeError):  # Not glibc: the memory stays with the process.
    pass


def convert_tflite_in_child(source, path, quantize="none", representative_data=None,
                            int8_io="float"):
  """Converts `source` and writes the .tflite to `path` in a spawned child process.

  The conversion's memory peak is then its own, not added to the caller's
  (which holds the Keras model or its freed but unreturned memory): the
  export's peak is the larger of the two processes' (docs/deployment.md,
  Export memory). `representative_data` must be picklable
  (`tflite_export.representative_dataset` is). The file is written atomically by the
  child; a failed conversion writes nothing and raises ValueError with the
  child's error in one line. Returns `path`.
  """
  tflite_export.check_tflite_options(quantize, representative_data is not None, int8_io)
  context = multiprocessing.get_context("spawn")
  receive, send = context.Pipe(duplex=False)
  process = context.Process(
      target=_convert_and_write,
      args=(source, path, quantize, representative_data, int8_io, send))
  process.start()
  send.close()  # The child holds the only sending end: EOF when it dies.
  try:
    error = receive.recv()
  except EOFError:
    error = "it ended without an answer"
  process.join()
  if error is None and process.exitcode:
    error = f"it exited with code {process.exitcode}"
  if error is not None:
    if process.exitcode and process.exitcode < 0:
      error += f" (killed by signal {-process.exitcode}; out of memory?)"
    raise ValueError(f"TFLite conversion (--quantize={quantize}) of {source} to "
                     f"{path} failed: {error}")
  return path


def _convert_and_write(source, path, quantize, representative_data, int8_io, send):
  """The child of `convert_tflite_in_child`: sends None, or the error in one line."""
  try:
    tflite_export.write_tflite(path, tflite_export.convert_tflite_source(
        source, quantize, representative_data, int8_io))
    send.send(None)
  except Exception as error:  # pylint: disable=broad-except
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    send.send(f"{type(error).__name__}: {lines[0] if lines else ''}")
  finally:
    send.close()
