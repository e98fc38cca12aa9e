"""What every route shares: the app's `Studio`, JSON error answers, running the model."""

import fastapi
from absl import logging
from fastapi import responses

from tfcolor.studio import gate as gate_lib
from tfcolor.studio import uploads

PNG = "image/png"


def studio(request: fastapi.Request):
  """The app's `Studio` (a FastAPI dependency)."""
  return request.app.state.studio


def error(status, message):
  return responses.JSONResponse({"detail": message}, status_code=status)


def read_upload(upload):
  """The bytes of an UploadFile (None for a missing optional upload)."""
  if upload is None:
    return None
  upload.file.seek(0)
  return upload.file.read()


def run_model(current_studio, what, call):
  """Runs `call()` in the model's turn; a JSON error answer instead of raising.

  Returns (result, None) or (None, error response): 503 busy, 500 with the message if the model call fails. The server stays up
  either way.
  """
  try:
    with current_studio.gate.model_turn():
      return call(), None
  except gate_lib.Busy as busy:
    return None, error(503, str(busy))
  except Exception as failure:  # pylint: disable=broad-except
    logging.exception("%s failed", what)
    message = str(failure).strip().splitlines()[0] if str(failure).strip() else ""
    return None, error(500, f"{what} failed: {type(failure).__name__}: {message}")


def png_response(array, headers=None):
  return responses.Response(uploads.png_bytes(array), media_type=PNG, headers=headers)
