"""Imports point one way: data -> models -> training; evaluation and serving
use models, data and config, never the trainer (checked on the source, with ast).

Every import counts, also those inside functions, so a lazy import cannot
hide an arrow pointing back.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tfcolor"

# Sub-package (or module) of tfcolor -> tfcolor sub-packages it must not import.
FORBIDDEN = {
    "config": ("data", "models", "training", "evaluation", "serving", "studio"),
    "run_folder": ("data", "models", "training", "evaluation", "serving", "studio"),
    "data": ("models", "training", "evaluation", "serving", "studio"),
    "models": ("training", "evaluation", "serving", "studio"),
    "training": ("evaluation", "serving", "studio"),
    "evaluation": ("training", "studio"),
    "serving": ("training", "evaluation", "studio"),
    "studio": ("training",),
}


def imported_modules(path, root=ROOT):
  """Every module name `path` (under `root`) imports; relative ones resolved."""
  tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
  package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
  names = []
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      names.extend(alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ""
      if node.level:
        parent = package.split(".")[:len(package.split(".")) - node.level + 1]
        base = ".".join(parent + ([base] if base else []))
      names.append(base)
      names.extend(f"{base}.{alias.name}" for alias in node.names)
  return names


def _part(module):
  """tfcolor.X.Y -> X; anything else -> None."""
  parts = module.split(".")
  return parts[1] if len(parts) > 1 and parts[0] == "tfcolor" else None


def violations(package=PACKAGE):
  """'file imports module' for every import against FORBIDDEN in `package`."""
  found = []
  for path in sorted(package.rglob("*.py")):
    owner = path.relative_to(package).with_suffix("").parts[0]
    forbidden = FORBIDDEN.get(owner, ())
    for module in imported_modules(path, package.parent):
      if _part(module) in forbidden:
        found.append(f"{path.relative_to(package.parent)} imports {module}")
  return sorted(set(found))


def test_imports_point_one_way():
  assert not violations(), "\n".join(violations())


@pytest.mark.parametrize("source, expected", [
    ("from tfcolor.training import checkpointing\n", "tfcolor.training.checkpointing"),
    ("def f():\n  import tfcolor.training.loop\n", "tfcolor.training.loop"),
    ("from ..training import gan\n", "tfcolor.training.gan"),
])
def test_imports_are_found_wherever_written(tmp_path, source, expected):
  path = tmp_path / "tfcolor" / "serving" / "probe.py"
  path.parent.mkdir(parents=True)
  path.write_text(source, encoding="utf-8")
  assert expected in imported_modules(path, tmp_path)
  assert f"tfcolor/serving/probe.py imports {expected}" in violations(tmp_path / "tfcolor")
