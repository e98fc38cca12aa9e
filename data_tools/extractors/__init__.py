"""Line art extractors behind one interface (`base.LineArtExtractor`).

`create_extractor(kind, config)` imports the implementation lazily, so listing
kinds and defining flags stays cheap.
"""

import importlib

from data_tools.extractors.base import ExtractorUnavailableError, LineArtExtractor
from data_tools.extractors.configs import CONFIGS

_IMPLEMENTATIONS = {
    "xdog": ("data_tools.extractors.xdog", "XDoGExtractor"),
    "sketchkeras": ("data_tools.extractors.sketchkeras", "SketchKerasExtractor"),
    "simplification": ("data_tools.extractors.simplification",
                       "SimplificationExtractor"),
}

KINDS = tuple(_IMPLEMENTATIONS)


def create_extractor(kind, config=None):
  """An extractor of `kind` built from its config dataclass (defaults if None).

  Raises ValueError for an unknown kind and ExtractorUnavailableError when the
  extractor cannot run (e.g. weights not given).
  """
  if kind not in _IMPLEMENTATIONS:
    raise ValueError(f"unknown line art kind {kind!r}; known: {list(KINDS)}")
  module_name, class_name = _IMPLEMENTATIONS[kind]
  cls = getattr(importlib.import_module(module_name), class_name)
  return cls(config if config is not None else CONFIGS[kind]())


__all__ = ["CONFIGS", "KINDS", "ExtractorUnavailableError", "LineArtExtractor",
           "create_extractor"]
