"""Serves an app with uvicorn: in the foreground (the CLI) or in a thread (tests, benchmark).

The socket is bound here, so port 0 means a free port and the caller learns
which one before the first request.
"""

import contextlib
import socket
import threading
import time

import uvicorn


def bind(host, port):
  """A listening TCP socket on (host, port); port 0 = a free one."""
  family = socket.AF_INET6 if ":" in host else socket.AF_INET
  sock = socket.socket(family, socket.SOCK_STREAM)
  sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
  try:
    sock.bind((host, port))
  except OSError as error:
    sock.close()
    raise OSError(f"cannot listen on {host}:{port}: {error.strerror}") from None
  sock.listen(128)
  return sock


def url(sock):
  host, port = sock.getsockname()[:2]
  host = f"[{host}]" if ":" in host else host
  return f"http://{host}:{port}/"


def _server(app, log_level):
  return uvicorn.Server(uvicorn.Config(app, log_level=log_level, access_log=False,
                                       timeout_graceful_shutdown=5))


def serve_forever(app, sock, log_level="warning"):
  """Serves until Ctrl+C (uvicorn handles the signal and shuts down cleanly).

  uvicorn re-raises the captured SIGINT once it has shut down; that
  KeyboardInterrupt is the normal way out, not an error to print.
  """
  try:
    _server(app, log_level).run(sockets=[sock])
  except KeyboardInterrupt:
    pass


@contextlib.contextmanager
def serve_in_thread(app, host="127.0.0.1", port=0, log_level="warning"):
  """Serves `app` in a daemon thread for the `with` body; yields the page's URL."""
  sock = bind(host, port)
  server = _server(app, log_level)
  thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
  thread.start()
  try:
    deadline = time.monotonic() + 30
    while not server.started:
      if not thread.is_alive() or time.monotonic() > deadline:
        raise RuntimeError("the studio server did not start")
      time.sleep(0.02)
    yield url(sock)
  finally:
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
