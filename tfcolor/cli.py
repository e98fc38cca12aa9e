"""How every `python -m` tool starts and fails: `cli.run(main)` instead of `app.run(main)`.

absl answers an `app.UsageError` by printing the whole module docstring before
the error, so a bad flag value scrolled away under a page of help. Here a
usage error, and the errors that mean bad input (a missing or damaged file, a
bad setting: ValueError, OSError's file errors), print one line on stderr,
`<tool>: error: <message>`, and a pointer to `--help`, and exit with status 1
(absl's own flag-parsing errors are already one line). The traceback is still
logged at `--verbosity=1` for debugging. In-graph input checks
(`tf.debugging.Assert`, e.g. too many dropped records) become one line too.
"""

import os
import re
import sys

from absl import app
from absl import logging

# Exceptions that mean "the input or the settings are wrong", not a bug.
USER_ERRORS = (app.UsageError, ValueError, FileNotFoundError, FileExistsError,
               NotADirectoryError, IsADirectoryError, PermissionError)
_ASSERTION = re.compile(r"assertion failed: \[(.*?)\]", re.DOTALL)


def _program():
  main_module = sys.modules.get("__main__")
  spec = getattr(main_module, "__spec__", None)
  return spec.name if spec and spec.name else os.path.basename(sys.argv[0])


def _graph_assertion(error):
  """The text of a failed in-graph assertion in a TensorFlow error, or None."""
  if not type(error).__module__.startswith("tensorflow"):
    return None
  match = _ASSERTION.search(str(error))
  return " ".join(match.group(1).split()) if match else None


def error_line(program, error):
  """The one line a tool prints for `error`."""
  text = _graph_assertion(error) or " ".join(str(error).split()) or type(error).__name__
  return f"{program}: error: {text}"


def run(main, **app_run_kwargs):
  """`absl.app.run(main, ...)`, with bad input reported in one line (no module docstring)."""

  def main_with_one_line_errors(argv):
    try:
      return main(argv)
    except Exception as error:  # pylint: disable=broad-except
      if not isinstance(error, USER_ERRORS) and _graph_assertion(error) is None:
        raise
      logging.debug("%s", error, exc_info=True)
      program = _program()
      sys.stderr.write(error_line(program, error) + "\n")
      sys.stderr.write(f"Run python -m {program} --help for the flags.\n")
      sys.exit(1)

  app.run(main_with_one_line_errors, **app_run_kwargs)
