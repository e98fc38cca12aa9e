"""Flags derived from the config dataclasses: types, defaults, validation errors."""

import dataclasses

import pytest
from absl import flags

from tfcolor import config as config_lib
from tfcolor import flags as flags_lib


@pytest.fixture
def flag_values():
  """A fresh FlagValues so tests don't share parsed state with each other."""
  fresh = flags.FlagValues()
  flags_lib.define_flags(flag_values=fresh)
  return fresh


def test_every_config_field_has_a_flag_with_its_default(flag_values):
  flag_values(["prog"])
  for cls in config_lib.SECTIONS.values():
    for field in dataclasses.fields(cls):
      assert field.name in flag_values, field.name
  assert flags_lib.config_from_flags(flag_values=flag_values) == config_lib.ExperimentConfig()


def test_flag_values_reach_the_config_with_their_types(flag_values):
  flag_values(["prog", "--crop_size=64", "--lineart_kinds=xdog,sketchkeras",
               "--lineart_probs=1,3", "--down_filters=8,16,16,32", "--jit_compile",
               "--adversarial_loss=hinge"])
  config = flags_lib.config_from_flags(flag_values=flag_values)
  assert config.data.crop_size == 64
  assert config.data.lineart_kinds == ("xdog", "sketchkeras")
  assert config.data.lineart_probs == (1.0, 3.0)
  assert config.model.down_filters == (8, 16, 16, 32)
  assert config.train.jit_compile is True
  assert config.loss.adversarial_loss == "hinge"


def test_unknown_flag_and_bad_choice_are_rejected(flag_values):
  with pytest.raises(flags.Error, match="no_such_flag"):
    flag_values(["prog", "--no_such_flag=1"])
  with pytest.raises(flags.Error, match="strategy"):
    flag_values(["prog", "--strategy=gpu_magic"])


def test_non_numeric_list_value_names_the_flag(flag_values):
  flag_values(["prog", "--down_filters=8,wide,16,32"])
  with pytest.raises(ValueError, match="--down_filters"):
    flags_lib.config_from_flags(flag_values=flag_values)


@pytest.mark.parametrize("argv, flag_name", [
    (["--crop_size=100"], "--crop_size"),
    (["--lineart_probs=0.5,0.5"], "--lineart_probs"),
    (["--lineart_kinds=xdog,pencil", "--lineart_probs=1,1"], "--lineart_kinds"),
    (["--down_filters=8,16,32"], "--down_filters"),
    (["--strategy=mirrored", "--jit_compile"], "--jit_compile"),
    (["--global_batch_size=0"], "--global_batch_size"),
    (["--drift_weight=-0.001"], "--drift_weight"),
    (["--gradient_penalty_weight=-10"], "--gradient_penalty_weight"),
    (["--ci2018_filters=7"], "--ci2018_filters"),
    (["--ci2018_blocks=20,8,8"], "--ci2018_blocks"),
])
def test_contradictory_settings_name_the_flag(flag_values, argv, flag_name):
  flag_values(["prog"] + argv)
  with pytest.raises(ValueError, match=flag_name):
    flags_lib.config_from_flags(flag_values=flag_values)


def test_flagfile_values_are_overridden_by_the_command_line(flag_values, tmp_path):
  flagfile = tmp_path / "run.cfg"
  flagfile.write_text("--crop_size=256\n--global_batch_size=8\n")
  flag_values(["prog", f"--flagfile={flagfile}", "--crop_size=128"])
  config = flags_lib.config_from_flags(flag_values=flag_values)
  assert config.data.crop_size == 128
  assert config.train.global_batch_size == 8


@dataclasses.dataclass(frozen=True)
class _OtherCropSize:
  """Another tool's setting of the same name."""

  crop_size: int = config_lib.field(512, "Crop side of another tool.")


def test_a_second_definition_of_a_name_names_the_field(flag_values):
  with pytest.raises(flags.DuplicateFlagError, match=r"--crop_size of .*_OtherCropSize"):
    flags_lib.define_dataclass_flags(_OtherCropSize, flag_values)


def test_only_the_named_fields_become_flags():
  flag_values = flags.FlagValues()
  flags_lib.define_dataclass_flags(config_lib.EvalConfig, flag_values,
                                   names=("fid_inception",))
  assert [name for name in flag_values] == ["fid_inception"]


def test_require_names_the_first_empty_setting():
  @dataclasses.dataclass(frozen=True)
  class Paths:
    input: str = ""
    output: str = ""

  flags_lib.require(Paths("a", "b"), "input", "output")
  with pytest.raises(ValueError, match=r"^--output is required$"):
    flags_lib.require(Paths("a", ""), "input", "output")
  with pytest.raises(ValueError, match=r"^--input is required$"):
    flags_lib.require(Paths("", ""), "input", "output")
