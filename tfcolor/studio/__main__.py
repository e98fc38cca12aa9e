r"""Starts the colouring studio on a trained run or an export and serves until Ctrl+C.

  python -m tfcolor.studio --model=runs/demo
  python -m tfcolor.studio --model=exports/demo --port=8080 --max_side=768
  python -m tfcolor.studio --model=exports/demo.tflite \
      --sketchkeras_weights=/weights/mod.h5

--model: a training run folder (latest checkpoint; the attention view needs
one), a SavedModel version folder, an export folder (its highest version), or
a .tflite file. Listens on 127.0.0.1 only unless --host says otherwise; read
docs/studio.md before using --host=0.0.0.0.
"""

from absl import app, flags, logging

from data_tools import extractors as extractors_lib
from data_tools.extractors import configs as extractor_configs
from tfcolor import flags as flags_lib
from tfcolor.studio import settings as settings_lib

# The weights flag of each neural extractor: given = offered on the page.
_NEURAL_WEIGHTS = {"sketchkeras": "sketchkeras_weights",
                   "simplification": "simplification_weights"}


def _extractors():
  """XDoG, plus each neural extractor whose weights flag was given."""
  configs = extractor_configs.configs_from_flags(extractors_lib.KINDS, flags.FLAGS)
  kinds = ["xdog"] + [kind for kind, weights in _NEURAL_WEIGHTS.items()
                      if getattr(configs[kind], weights)]
  return {kind: extractors_lib.create_extractor(kind, configs[kind]) for kind in kinds}


def main(argv):
  # pylint: disable=import-outside-toplevel
  from tfcolor.studio import app as app_lib
  from tfcolor.studio import backends, server

  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  try:
    settings = settings_lib.validate(
        flags_lib.dataclass_from_flags(settings_lib.StudioSettings))
    backend = backends.load_backend(settings.model)
    studio_app = app_lib.create_app(backend, settings, _extractors())
    sock = server.bind(settings.host, settings.port)
  except (ValueError, OSError, extractors_lib.ExtractorUnavailableError) as error:
    raise app.UsageError(str(error)) from None
  if settings.host != settings_lib.LOOPBACK:
    logging.warning("--host=%s: anyone who can reach this machine can use the studio "
                    "and your model (no login, no TLS); see docs/studio.md",
                    settings.host)
  print(f"tfcolor studio: {backend.kind} model {backend.path}", flush=True)
  print(f"Open {server.url(sock)} (Ctrl+C stops)", flush=True)
  server.serve_forever(studio_app, sock)


if __name__ == "__main__":
  # Flags are defined only when run as a program, so importing the library
  # does not claim names in the global FLAGS.
  flags_lib.define_dataclass_flags(settings_lib.StudioSettings)
  extractor_configs.define_flags(flags.FLAGS)
  flags.adopt_module_key_flags(flags_lib)
  app.run(main)
