"""Debian's headless Chromium through the `playwright` package, for page tests and screenshots.

Never `playwright install` (it downloads a browser from a host this project
cannot rely on): the system's /usr/bin/chromium is launched through
`executable_path`. `.ci/run` installs it with apt-get when it is missing.
"""

import os

CHROMIUM_PATH = "/usr/bin/chromium"
HEADLESS_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run")


def missing(path=CHROMIUM_PATH):
  """Why the browser cannot run here (a one-line message), or '' when it can."""
  try:
    import playwright.sync_api  # pylint: disable=import-outside-toplevel,unused-import
  except ImportError as error:
    return f"the playwright package is not installed ({error}); pip install -r requirements.txt"
  if not os.access(path, os.X_OK):
    return (f"no browser at {path}: install Debian's chromium (sudo apt-get install "
            "chromium), as .ci/run does")
  return ""


def launch(playwright, path=CHROMIUM_PATH):
  """A headless Chromium `Browser` from a started `sync_playwright()`."""
  return playwright.chromium.launch(executable_path=path, headless=True,
                                    args=list(HEADLESS_ARGS))
