"""Settings of each line art extractor; each field is also a flag of the builder.

Kept apart from the extractors so the builder can define its flags without
importing TensorFlow or OpenCV.
"""

import dataclasses

from tfcolor.config import field


@dataclasses.dataclass(frozen=True)
class XDoGConfig:
  """Extended difference of Gaussians (Winnemöller et al. 2012)."""

  xdog_sigma: float = field(0.6, "XDoG: std of the narrow Gaussian (pixels).")
  xdog_k: float = field(4.5, "XDoG: ratio of the wide to the narrow Gaussian's std.")
  xdog_tau: float = field(0.98, "XDoG: weight of the wide Gaussian (edge sensitivity).")
  xdog_epsilon: float = field(0.1, "XDoG: threshold on the DoG response (0..1 scale).")
  xdog_phi: float = field(200.0, "XDoG: steepness of the soft threshold (tanh).")


@dataclasses.dataclass(frozen=True)
class SketchKerasConfig:
  """sketchKeras (lllyasviel, Apache-2.0); weights from its public mod.h5."""

  sketchkeras_weights: str = field("", "Path to sketchKeras' public mod.h5.")
  sketchkeras_batch_size: int = field(8, "Images per sketchKeras batch.")


@dataclasses.dataclass(frozen=True)
class SimplificationConfig:
  """Sketch Simplification (Simo-Serra et al. 2018); non-commercial weights."""

  simplification_weights: str = field(
      "", "Path to Keras weights made by data_tools.convert_simplification_weights.")
  simplification_upscale: float = field(
      3.0, "Upscale factor before simplification (the paper: 3, then back).")
  simplification_batch_size: int = field(1, "Images per simplification batch.")


CONFIGS = {
    "xdog": XDoGConfig,
    "sketchkeras": SketchKerasConfig,
    "simplification": SimplificationConfig,
}
