"""Settings of each line art extractor; each field is also a flag of the builder.

Kept apart from the extractors so the builder can define its flags without
importing TensorFlow or OpenCV.
"""

import dataclasses

from tfcolor import flags as flags_lib
from tfcolor.config import field


@dataclasses.dataclass(frozen=True)
class XDoGConfig:
  """Extended difference of Gaussians (Winnemöller et al. 2012)."""

  xdog_sigma: float = field(
      0.5, "XDoG: std of the narrow Gaussian, pixels. 0.5 keeps 1-5 px strokes single "
      "and ignores JPEG ringing at 768 px; scale it with the image resolution.")
  xdog_k: float = field(
      4.5, "XDoG: wide/narrow Gaussian std ratio; sets how far a line reaches from an "
      "edge. 4.5 is common for anime line art; the classic DoG 1.6 splits thick outlines "
      "into two thin lines.")
  xdog_p: float = field(
      15.0, "XDoG: sharpening p in (1+p)*G_sigma - p*G_{k*sigma}; 15 still draws the "
      "border of two fills 0.1 apart in luminance, higher thickens strong edges.")
  xdog_epsilon: float = field(
      0.1, "XDoG: responses below this (0..1 luminance) become ink; 0.1 keeps "
      "mid-tone fills and soft shading white.")
  xdog_phi: float = field(
      200.0, "XDoG: steepness of the tanh soft threshold; 200 = crisp ink with a "
      "one-pixel antialiased edge.")


@dataclasses.dataclass(frozen=True)
class SketchKerasConfig:
  """sketchKeras (lllyasviel, Apache-2.0); weights from its public mod.h5."""

  sketchkeras_weights: str = field("", "Path to sketchKeras' public mod.h5.")
  sketchkeras_batch_size: int = field(8, "Images per sketchKeras batch.")
  sketchkeras_long_side: int = field(
      512, "sketchKeras: the image is resized to this long side and padded to a "
      "square of it before the net (the public code: 512; a multiple of 16); "
      "0 = native size, padded to a multiple of 16.")
  sketchkeras_threshold: float = field(
      0.1, "sketchKeras: responses below this (0..1) become paper (the public "
      "'enhanced' output: 0.1; 0 keeps every response).")


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


def define_flags(flag_values):
  """Defines every extractor's flags (e.g. --xdog_sigma) for a CLI that runs extractors."""
  for config_class in CONFIGS.values():
    flags_lib.define_dataclass_flags(config_class, flag_values)


def configs_from_flags(kinds, flag_values):
  """{kind: its config dataclass} for `kinds`, from parsed flags."""
  return {kind: flags_lib.dataclass_from_flags(CONFIGS[kind], flag_values)
          for kind in kinds if kind in CONFIGS}
