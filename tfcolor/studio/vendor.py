"""LiteRT.js for the page, from npm's node_modules: served by the studio, copied by the web demo.

The browser runs .tflite models with LiteRT.js (`@litertjs/core`, pinned in
package.json / package-lock.json, installed by `npm ci` at the repository
root). Pages load it from their own origin under `vendor/litertjs/`: the
studio mounts `static_files()` at URL_PREFIX, the static web demo copies the
same files with `copy_to`. The page's import map (`IMPORT_MAP`) maps the
package's bare specifiers to those URLs; `import_map_csp_hash` lets a
Content-Security-Policy allow exactly that inline script.
"""

import base64
import hashlib
import json
import pathlib
import shutil

NODE_MODULES = pathlib.Path(__file__).resolve().parents[2] / "node_modules"
SCOPE = "@litertjs"
URL_PREFIX = "/vendor/litertjs"  # the studio's mount point; "vendor/litertjs" in a demo folder

# What a page needs, relative to node_modules/@litertjs: the ES modules and the
# WebAssembly builds LiteRT.js picks from (single-threaded, threaded for
# cross-origin isolated pages, compat for browsers without relaxed SIMD).
FILES = (
    "core/dist/index.js",
    "wasm-utils/dist/index.js",
    *(f"core/wasm/litert_wasm_{build}internal.{ext}"
      for build in ("", "threaded_", "compat_") for ext in ("js", "wasm")),
)
WASM_FOLDER = "core/wasm/"

# Relative to the page, which sits at the root of the studio and of a demo folder.
IMPORT_MAP = json.dumps({"imports": {
    "@litertjs/core": f".{URL_PREFIX}/core/dist/index.js",
    "@litertjs/wasm-utils": f".{URL_PREFIX}/wasm-utils/dist/index.js",
}}, indent=2)


class VendorMissingError(FileNotFoundError):
  """LiteRT.js is not installed in node_modules."""


def vendor_dir(node_modules=None):
  """node_modules/@litertjs, checked to hold every file in FILES.

  `node_modules` None is NODE_MODULES, read at call time (tests point it elsewhere).
  """
  node_modules = pathlib.Path(NODE_MODULES if node_modules is None else node_modules)
  root = node_modules / SCOPE
  missing = [name for name in FILES if not (root / name).is_file()]
  if missing:
    raise VendorMissingError(
        f"LiteRT.js is not installed ({root / missing[0]} is missing): run `npm ci` in "
        f"{node_modules.parent}")
  return root


def static_files(node_modules=None):
  """A Starlette StaticFiles app of the LiteRT.js files (mount it at URL_PREFIX)."""
  from starlette.staticfiles import StaticFiles  # pylint: disable=import-outside-toplevel
  return StaticFiles(directory=vendor_dir(node_modules))


def copy_to(dest, node_modules=None):
  """Copies FILES into `dest` (e.g. DEMO/vendor/litertjs); returns their total bytes."""
  root = vendor_dir(node_modules)
  total = 0
  for name in FILES:
    target = pathlib.Path(dest) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(root / name, target)
    total += target.stat().st_size
  return total


def import_map_csp_hash(import_map=IMPORT_MAP):
  """The CSP source ("'sha256-...'") that allows the inline import map script."""
  digest = hashlib.sha256(import_map.encode("utf-8")).digest()
  return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"
