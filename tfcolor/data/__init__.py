"""Training and evaluation input: TFRecords -> batches of image, line art, hints.

The public names below load on first use, so `tfcolor.data.schema` (imported
by the dataset builder's worker processes) does not pull in TensorFlow.
"""

import importlib

_EXPORTS = {
    "make_train_dataset": "tfcolor.data.input_pipeline",
    "make_eval_dataset": "tfcolor.data.input_pipeline",
    "resolve_files": "tfcolor.data.input_pipeline",
    "count_dropped_records": "tfcolor.data.input_pipeline",
    "sample_hints": "tfcolor.data.hints",
    "sample_hint_patches": "tfcolor.data.hints",
    "hints_from_patches": "tfcolor.data.hints",
    "HintPatches": "tfcolor.data.hints",
    "MAX_HINT_PATCHES": "tfcolor.data.hints",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
  if name not in _EXPORTS:
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
  return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__():
  return sorted(set(globals()) | set(_EXPORTS))
