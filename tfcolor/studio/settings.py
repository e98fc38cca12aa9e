"""Settings of the studio server: one dataclass, also the flags of `python -m tfcolor.studio`."""

import dataclasses

from tfcolor.config import field
from tfcolor.serving import page_scaling
from tfcolor.serving.page_scaling import DEFAULT_MAX_SIDE

LOOPBACK = "127.0.0.1"


@dataclasses.dataclass(frozen=True)
class StudioSettings:
  """What the studio serves and how (each field is also its flag)."""

  model: str = field(
      "", "A training run folder (--model_dir, latest checkpoint), a SavedModel "
      "version folder, an export folder (its highest version), or a .tflite file.")
  host: str = field(
      LOOPBACK, "Address to listen on. 127.0.0.1 = this machine only; 0.0.0.0 "
      "opens the studio (and your model) to the network: see docs/studio.md.")
  port: int = field(8000, "TCP port (0 = a free one, printed at start).")
  max_side: int = field(
      DEFAULT_MAX_SIDE, "Pages with a longer side are scaled down to it for the "
      "model and back up (0 = never).")
  max_upload_mb: float = field(20.0, "Largest request body accepted, in MB.")
  max_waiting: int = field(
      4, "Requests that may wait while the model is busy; more get 503 busy.")
  wait_timeout_s: float = field(
      120.0, "A waiting request gives up with 503 busy after this many seconds.")
  max_pixels: int = field(
      40_000_000, "Largest uploaded image, in pixels (a small PNG can decode to "
      "gigabytes).")

  @property
  def max_upload_bytes(self):
    return int(self.max_upload_mb * 1_000_000)


def validate(settings):
  """Raises ValueError naming the flag for settings that cannot work."""
  if not settings.model:
    raise ValueError("--model is required (a run folder, SavedModel, export folder or "
                     ".tflite file)")
  if not 0 <= settings.port < 65536:
    raise ValueError(f"--port must be in 0..65535, got {settings.port}")
  page_scaling.check_max_side(settings.max_side)
  if settings.max_upload_mb <= 0:
    raise ValueError(f"--max_upload_mb must be > 0, got {settings.max_upload_mb}")
  if settings.max_waiting < 0:
    raise ValueError(f"--max_waiting must be >= 0, got {settings.max_waiting}")
  if settings.wait_timeout_s <= 0:
    raise ValueError(f"--wait_timeout_s must be > 0, got {settings.wait_timeout_s}")
  if settings.max_pixels <= 0:
    raise ValueError(f"--max_pixels must be > 0, got {settings.max_pixels}")
  return settings
