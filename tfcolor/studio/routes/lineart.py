"""POST /api/lineart: a colour picture -> line art PNG with the dataset builder's extractors.

The same extractors (and settings) as `data_tools.build_tfrecords`, so the
line art looks like what the model was trained on. XDoG is always there;
sketchKeras and Sketch Simplification when the server was given their weights.
"""

import fastapi

from tfcolor.studio import uploads
from tfcolor.studio.routes import common

router = fastapi.APIRouter(tags=["line art"])


@router.post("/lineart", response_class=fastapi.responses.Response,
             responses={200: {"content": {common.PNG: {}}}})
def extract_lineart(image: fastapi.UploadFile, extractor: str = fastapi.Form("xdog"),
                    current_studio=fastapi.Depends(common.studio)):
  """Gray line art PNG of the picture's size."""
  extractors = current_studio.extractors
  if extractor not in extractors:
    return common.error(422, f"extractor {extractor!r} is not available here; this "
                        f"server has {sorted(extractors)}")
  try:
    rgb = uploads.read_rgb(common.read_upload(image), current_studio.settings.max_pixels)
  except uploads.BadUpload as bad:
    return common.error(bad.status, str(bad))
  lineart, failure = common.run_model(
      current_studio, f"{extractor} line art",
      lambda: extractors[extractor].extract_batch([rgb])[0])
  if failure is not None:
    return failure
  return common.png_response(lineart)
