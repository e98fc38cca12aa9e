"""`create_app(backend, settings)`: the studio's FastAPI app, built around one loaded model.

The app holds a `Studio` (the backend, the settings, the model gate and the
line art extractors) in `app.state.studio`; the routes (`routes/`) read it
from there, so a test builds an app around a tiny model and calls it through
`TestClient` or a real socket. Every error answer is JSON `{"detail": "..."}`
with one line the page shows.
"""

import dataclasses
import os
import typing

import fastapi
from fastapi import exceptions
from fastapi import responses
from fastapi import staticfiles
from starlette import formparsers

from tfcolor.studio import gate as gate_lib
from tfcolor.studio import security, vendor
from tfcolor.studio.routes import colorize, health, lineart, on_device

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")


@dataclasses.dataclass
class Studio:
  """Everything a request needs: the model, the settings, the gate, the extractors."""

  backend: typing.Any
  settings: typing.Any
  gate: gate_lib.ModelGate
  extractors: dict  # kind -> data_tools.extractors.LineArtExtractor


def default_extractors():
  """XDoG, which needs no weights (the neural extractors are added by the CLI)."""
  from data_tools.extractors import create_extractor  # pylint: disable=import-outside-toplevel
  return {"xdog": create_extractor("xdog")}


def _one_line(errors):
  parts = []
  for error in errors:
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
    parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg"))
  return "; ".join(parts) or "invalid request"


def create_app(backend, settings, extractors=None):
  """The studio app for a loaded backend (`backends.load_backend`) and `StudioSettings`."""
  # Multipart file parts stay in memory up to this size instead of spilling
  # to a temporary file (Starlette's default spills above 1 MB); BodyLimit
  # caps the whole body at the same size.
  formparsers.MultiPartParser.spool_max_size = max(
      formparsers.MultiPartParser.spool_max_size, settings.max_upload_bytes + 1)
  app = fastapi.FastAPI(title="tfcolor studio", docs_url=None, redoc_url=None,
                        openapi_url="/api/openapi.json")
  app.state.studio = Studio(
      backend=backend, settings=settings,
      gate=gate_lib.ModelGate(settings.max_waiting, settings.wait_timeout_s),
      extractors=extractors if extractors is not None else default_extractors())

  @app.exception_handler(exceptions.RequestValidationError)
  def _validation_error(request, error):  # pylint: disable=unused-argument
    return responses.JSONResponse({"detail": _one_line(error.errors())}, status_code=422)

  for router in (colorize.router, lineart.router, health.router, on_device.router):
    app.include_router(router, prefix="/api")
  try:  # LiteRT.js for the on-device mode (`npm ci`); /api/health says when it is missing
    app.mount(vendor.URL_PREFIX, vendor.static_files(), name="vendor")
  except vendor.VendorMissingError:
    pass
  app.mount("/", staticfiles.StaticFiles(directory=STATIC_DIR, html=True), name="page")
  app.add_middleware(security.BodyLimit, max_bytes=settings.max_upload_bytes)
  app.add_middleware(security.SecurityHeaders)
  return app
