"""GET /api/health: what model is served and the size rules the page shows."""

import typing

import fastapi
import pydantic

from tfcolor.studio.routes import common
from tfcolor.studio.routes import on_device as on_device_lib

router = fastapi.APIRouter(tags=["health"])


class Health(pydantic.BaseModel):
  """The served model and the rules a page is coloured by."""

  status: str
  model: str
  kind: str
  max_side: int
  fixed_size: typing.Optional[int]
  max_upload_mb: float
  attention_blocks: int
  extractors: typing.List[str]
  on_device: typing.Optional[on_device_lib.OnDevice] = None
  static: bool = False  # a static web demo (tfcolor.studio.web_demo): no server API
  sample: typing.Optional[str] = None  # line art the page opens on start


@router.get("/health", response_model=Health)
def health(current_studio=fastapi.Depends(common.studio)) -> Health:
  backend, settings = current_studio.backend, current_studio.settings
  return Health(status="ok", model=backend.path, kind=backend.kind,
                max_side=settings.max_side, fixed_size=backend.fixed_size,
                max_upload_mb=settings.max_upload_mb,
                attention_blocks=backend.attention_blocks,
                extractors=sorted(current_studio.extractors),
                on_device=on_device_lib.on_device_facts(backend))
