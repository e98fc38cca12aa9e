"""ASGI middleware that keeps the studio a local tool: bounded bodies, same-origin page.

`BodyLimit` answers 413 before reading a body whose Content-Length is over
the limit, and stops reading one that grows past it without announcing its
size. `SecurityHeaders` adds a Content-Security-Policy that lets the page
load and fetch only from its own origin (no other host, no framing; the one
inline script is the import map of LiteRT.js, allowed by its hash, and
WebAssembly may compile) to every answer, and cross-origin isolation
(COOP/COEP), which the threaded WebAssembly build of the on-device mode needs.
"""

import json

from tfcolor.studio import vendor

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; "
    f"script-src 'self' 'wasm-unsafe-eval' {vendor.import_map_csp_hash()}; style-src 'self'; "
    "img-src 'self' blob: data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-embedder-policy", b"require-corp"),
]


async def _send_json(send, status, message):
  body = json.dumps({"detail": message}).encode()
  await send({"type": "http.response.start", "status": status,
              "headers": [(b"content-type", b"application/json"),
                          (b"content-length", str(len(body)).encode()),
                          (b"connection", b"close")]})
  await send({"type": "http.response.body", "body": body})


class BodyLimit:
  """Rejects request bodies over `max_bytes` with 413 and a JSON message."""

  def __init__(self, app, max_bytes):
    self.app = app
    self.max_bytes = max_bytes

  def _message(self):
    return (f"the upload is larger than the studio takes ({self.max_bytes / 1e6:g} MB, "
            "--max_upload_mb)")

  async def __call__(self, scope, receive, send):
    if scope["type"] != "http":
      await self.app(scope, receive, send)
      return
    length = dict(scope["headers"]).get(b"content-length")
    if length is not None and length.isdigit() and int(length) > self.max_bytes:
      await _send_json(send, 413, self._message())
      return
    received = 0
    too_large = False

    async def counting_receive():
      # Past the limit the app is told the client left, so it stops reading;
      # whatever it answers then is replaced by the 413 below.
      nonlocal received, too_large
      if too_large:
        return {"type": "http.disconnect"}
      message = await receive()
      if message["type"] == "http.request":
        received += len(message.get("body", b""))
        if received > self.max_bytes:
          too_large = True
          return {"type": "http.disconnect"}
      return message

    answered = False

    async def limited_send(message):
      nonlocal answered
      if not too_large:
        await send(message)
      elif message["type"] == "http.response.start" and not answered:
        await _send_json(send, 413, self._message())
      answered = answered or message["type"] == "http.response.start"

    try:
      await self.app(scope, counting_receive, limited_send)
    except Exception:  # pylint: disable=broad-except
      if not too_large:
        raise
    if too_large and not answered:
      await _send_json(send, 413, self._message())


class SecurityHeaders:
  """Adds the Content-Security-Policy and friends to every HTTP answer."""

  def __init__(self, app):
    self.app = app

  async def __call__(self, scope, receive, send):
    if scope["type"] != "http":
      await self.app(scope, receive, send)
      return

    async def send_with_headers(message):
      if message["type"] == "http.response.start":
        message = dict(message, headers=list(message.get("headers", [])) + _HEADERS)
      await send(message)

    await self.app(scope, receive, send_with_headers)
