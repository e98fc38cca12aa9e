"""A static web demo folder: the studio page colouring on the visitor's device.

`python -m tfcolor.export --model_dir=runs/demo --web_demo=DIR` writes DIR
with the studio's page and scripts, LiteRT.js (from `npm ci`), the .tflite
model and a sample line art page. Any static host serves it as it is: the
page reads `api/health` (a JSON file here, the studio's answer format, with
`static` set and the sample's name), opens the sample, and colours every
stroke in the browser. Hosts that send COOP/COEP headers (the `_headers` file
is Netlify / Cloudflare Pages syntax) get the threaded WebAssembly build;
others (GitHub Pages, `python -m http.server`) the single-threaded one.
"""

import os
import pathlib
import shutil
import tempfile

from tfcolor.studio import app as app_lib
from tfcolor.studio import vendor
from tfcolor.studio.routes import health, on_device

SAMPLE_NAME = "sample.png"
SAMPLE_SIZE = 256
HEADERS_FILE = """/*
  Cross-Origin-Opener-Policy: same-origin
  Cross-Origin-Embedder-Policy: require-corp
"""


def sample_lineart(size=SAMPLE_SIZE, seed=0):
  """A synthesized illustration's XDoG line art: uint8 (size, size), white paper."""
  # pylint: disable=import-outside-toplevel
  from data_tools import synthesize
  from data_tools.extractors import create_extractor
  picture = synthesize.render_illustration(synthesize.image_rng(seed, 0), size)
  return create_extractor("xdog").extract(picture)


def health_json(model_bytes, io_spec):
  """The studio's /api/health answer for the static page (one format, `health.Health`)."""
  facts = on_device.OnDevice(model_url=on_device.MODEL_URL, model_bytes=model_bytes,
                             io_spec=io_spec, runtime_error="")
  return health.Health(status="ok", model="model.tflite", kind="tflite", max_side=0,
                       fixed_size=io_spec["size"], max_upload_mb=0, attention_blocks=0,
                       extractors=[], on_device=facts, static=True,
                       sample=SAMPLE_NAME).model_dump_json(indent=2)


def check_destination(dest):
  """Raises before any work: `dest` is a non-empty folder or a file, or no `npm ci`."""
  dest = pathlib.Path(dest)
  if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
    raise FileExistsError(f"--web_demo={dest} exists and is not an empty folder; "
                          "exports never overwrite, pick another folder")
  vendor.vendor_dir()


def write_web_demo(dest, model_bytes, io_spec, sample=None):
  """Writes the demo folder `dest` (new or empty); returns {"path", "bytes"}.

  Built in a temporary folder beside `dest` and renamed into place, so a
  failure leaves no half demo. `sample`: uint8 line art (default: `sample_lineart()`).
  """
  from PIL import Image  # pylint: disable=import-outside-toplevel
  dest = pathlib.Path(dest)
  check_destination(dest)
  dest.parent.mkdir(parents=True, exist_ok=True)
  building = pathlib.Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
  try:
    shutil.copytree(app_lib.STATIC_DIR, building, dirs_exist_ok=True)
    vendor.copy_to(building / vendor.URL_PREFIX.lstrip("/"))
    (building / "api").mkdir()
    (building / on_device.MODEL_URL).write_bytes(model_bytes)
    (building / "api" / "health").write_text(health_json(len(model_bytes), io_spec))
    Image.fromarray(sample if sample is not None else sample_lineart()).save(
        building / SAMPLE_NAME)
    (building / "_headers").write_text(HEADERS_FILE)
    if dest.exists():
      dest.rmdir()
    os.replace(building, dest)
  except BaseException:
    shutil.rmtree(building, ignore_errors=True)
    raise
  total = sum(path.stat().st_size for path in dest.rglob("*") if path.is_file())
  return {"path": str(dest), "bytes": total}
