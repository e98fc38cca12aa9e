"""POST /api/colorize (line art + hint layer -> colour PNG) and /api/attention.

Both take multipart `lineart` (any image; colour is converted to gray, as
`tfcolor.colorize` does) and an optional `hints` RGBA PNG of the same size
(alpha > 0 = hint; the format `tfcolor.colorize --hints` reads). Plain `def`
handlers: FastAPI runs them in its thread pool, where TensorFlow may block.
"""

import typing

import fastapi
import numpy as np
from PIL import Image

from tfcolor.config import SIZE_MULTIPLE
from tfcolor.serving import page_scaling
from tfcolor.studio import uploads
from tfcolor.studio.routes import common

router = fastapi.APIRouter(tags=["colour"])

SCALED_HEADER = "X-Studio-Scaled"  # "1" when the page was scaled for the model
MODEL_SIZE_HEADER = "X-Studio-Model-Size"  # "WxH" of what the model saw


def _read_inputs(current_studio, lineart, hints):
  max_pixels = current_studio.settings.max_pixels
  lineart_array = uploads.read_lineart(common.read_upload(lineart), max_pixels)
  height, width = lineart_array.shape
  hints_array = uploads.read_hints(common.read_upload(hints), height, width, max_pixels)
  return lineart_array[..., None], hints_array


def model_size(backend, height, width, max_side):
  """(height, width) the model itself runs at for a page."""
  if backend.fixed_size:
    return backend.fixed_size, backend.fixed_size
  return page_scaling.scaled_size(height, width, max_side)


@router.post("/colorize", response_class=fastapi.responses.Response,
             responses={200: {"content": {common.PNG: {}}}})
def colorize_page(lineart: fastapi.UploadFile, hints: typing.Optional[fastapi.UploadFile] = None,
                  current_studio=fastapi.Depends(common.studio)):
  """The coloured page, a PNG of the line art's size."""
  try:
    lineart_array, hints_array = _read_inputs(current_studio, lineart, hints)
  except uploads.BadUpload as bad:
    return common.error(bad.status, str(bad))
  backend, max_side = current_studio.backend, current_studio.settings.max_side
  result, failure = common.run_model(
      current_studio, "colouring",
      lambda: page_scaling.colorize_page(backend, lineart_array, hints_array, max_side))
  if failure is not None:
    return failure
  image, scaled = result
  height, width = lineart_array.shape[:2]
  seen_height, seen_width = model_size(backend, height, width, max_side)
  return common.png_response(image, headers={
      SCALED_HEADER: "1" if scaled or (seen_height, seen_width) != (height, width) else "0",
      MODEL_SIZE_HEADER: f"{seen_width}x{seen_height}"})


def attention_picture(maps, block, model_size, size):
  """[blocks, h, w] maps at 1/SIZE_MULTIPLE of the model's page -> uint8 picture of `size`.

  One block's map or their mean (block -1), scaled by SIZE_MULTIPLE to the padded page
  the model saw, cropped to `model_size` (height, width), then scaled to the
  line art's `size`.
  """
  chosen = maps.mean(axis=0) if block < 0 else maps[block]
  picture = Image.fromarray(np.clip(chosen * 255.0 + 0.5, 0, 255).astype(np.uint8))
  rows, cols = chosen.shape
  picture = picture.resize((cols * SIZE_MULTIPLE, rows * SIZE_MULTIPLE),
                          Image.Resampling.BILINEAR)
  picture = picture.crop((0, 0, model_size[1], model_size[0]))
  if tuple(model_size) != tuple(size):
    picture = picture.resize((size[1], size[0]), Image.Resampling.BILINEAR)
  return np.asarray(picture)


@router.post("/attention", response_class=fastapi.responses.Response,
             responses={200: {"content": {common.PNG: {}}}})
def attention(lineart: fastapi.UploadFile, hints: typing.Optional[fastapi.UploadFile] = None,
              block: int = fastapi.Form(-1),
              current_studio=fastapi.Depends(common.studio)):
  """Where the CSA blocks looked at the hints: gray PNG of the line art's size (255 = most).

  `block` picks one CSA block (0 = first); -1 = the mean of all blocks.
  """
  backend = current_studio.backend
  if not backend.attention_blocks:
    return common.error(404, f"this {backend.kind} model has no attention maps: start "
                        "the studio on the training run folder of a CSA model")
  if not -1 <= block < backend.attention_blocks:
    return common.error(422, f"block must be -1 (mean) or 0..{backend.attention_blocks - 1},"
                        f" got {block}")
  try:
    lineart_array, hints_array = _read_inputs(current_studio, lineart, hints)
  except uploads.BadUpload as bad:
    return common.error(bad.status, str(bad))
  height, width = lineart_array.shape[:2]
  size = page_scaling.scaled_size(height, width, current_studio.settings.max_side)
  if size != (height, width):
    lineart_array = page_scaling.scale_lineart(lineart_array, *size)
    hints_array = page_scaling.scale_hints(hints_array, *size)
  maps, failure = common.run_model(
      current_studio, "attention",
      lambda: backend.attention_maps(lineart_array, hints_array))
  if failure is not None:
    return failure
  return common.png_response(attention_picture(maps, block, size, (height, width)))
