"""GET /api/model.tflite: the .tflite model for the page to colour on the user's device.

Only a studio started on a .tflite file has one (404 otherwise). The page
downloads it once and colours with LiteRT.js (static/ondevice/), with no
request per stroke; `/api/health`'s `on_device` tells it the URL, the size in
bytes and the quantisation LiteRT.js cannot read from the model.
"""

import os
import typing

import fastapi
import pydantic
from fastapi import responses

from tfcolor.studio import vendor
from tfcolor.studio.routes import common

router = fastapi.APIRouter(tags=["on-device"])

MODEL_URL = "api/model.tflite"  # relative to the page


class OnDevice(pydantic.BaseModel):
  """What the page needs to colour in the browser."""

  model_url: str
  model_bytes: int
  io_spec: dict
  runtime_error: str  # '' when LiteRT.js is installed, else the one-line reason


def on_device_facts(backend) -> typing.Optional[OnDevice]:
  """The backend's OnDevice facts, or None when it has no .tflite model."""
  if not backend.on_device_model:
    return None
  try:
    vendor.vendor_dir()
    runtime_error = ""
  except vendor.VendorMissingError as error:
    runtime_error = str(error)
  return OnDevice(model_url=MODEL_URL, model_bytes=os.path.getsize(backend.on_device_model),
                  io_spec=backend.io_spec, runtime_error=runtime_error)


@router.get("/model.tflite")
def model_file(current_studio=fastapi.Depends(common.studio)):
  path = current_studio.backend.on_device_model
  if not path:
    return common.error(404, f"a {current_studio.backend.kind} model has no .tflite file: "
                        "start the studio with --model=MODEL.tflite to colour on this device")
  return responses.FileResponse(path, media_type="application/octet-stream")
