"""The demo benchmark runs the README's demo: the same commands, end to end."""

import os
import re

import pytest

from tfcolor.benchmarks import demo

README = os.path.join(demo.REPO_ROOT, "README.md")


def _readme_commands(marker):
  """The `&&`-separated commands of the README line that contains `marker`."""
  with open(README, encoding="utf-8") as readme:
    line = next(line for line in readme if marker in line)
  return [" ".join(command.split()) for command in line.strip().split("&&")]


def test_the_benchmark_runs_the_readme_main_command():
  commands = _readme_commands("pip install -r requirements.txt && python -m data_tools")
  # The README installs first; the benchmark runs what follows, in order.
  assert commands[:3] == ["python3 -m venv .venv", ". .venv/bin/activate",
                          "pip install -r requirements.txt"]
  assert commands[3:] == [command for _, command in demo.DEMO_COMMANDS]
  with open(README, encoding="utf-8") as readme:
    assert demo.EVAL_COMMAND[1] in readme.read()


def test_commands_run_this_checkout_with_the_given_python():
  argv = demo._argv(demo.DEMO_COMMANDS[-1][1], "/some/python")  # pylint: disable=protected-access
  assert argv[0] == "/some/python"
  assert argv[-1] == "--flagfile=" + os.path.join(demo.REPO_ROOT, "configs", "demo.cfg")


def test_a_failing_command_is_named(tmp_path, monkeypatch):
  monkeypatch.setattr(demo, "DEMO_COMMANDS", (("data", "python -m no_such_module_x"),))
  with pytest.raises(RuntimeError, match=re.escape("no_such_module_x")):
    demo.run_demo(str(tmp_path))


@pytest.mark.large
def test_the_readme_demo_end_to_end(tmp_path):
  lines = []
  result = demo.run_demo(str(tmp_path), log=lines.append)
  figures = result.figures()
  print("\n".join(lines + demo.format_figures(figures)))
  assert set(figures["seconds"]) == {"data", "training", "evaluation"}
  assert os.path.exists(tmp_path / "runs" / "demo" / "samples" / "final.png")
  # Regions filled from the hints, not dots: the old 300-step demo scored 105-112
  # on regions; this recipe 65.2-70.5 regions / 52.9-59.3 pixels in three runs
  # (docs/training.md). The margin takes the spread between fresh data builds.
  assert figures["region_error"] <= 75 and figures["pixel_error"] <= 62, figures
