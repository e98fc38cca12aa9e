"""absl flags derived from `tfcolor.config`, so each setting is written once.

Every field of the config sections becomes a flag of the same name with the
field's default, help text and allowed values. CLIs call `define_flags()` at
import time and `config_from_flags()` in `main`; absl itself rejects unknown
flags (also inside `--flagfile`), and `config.validate` rejects contradictory
ones, both before any work starts.
"""

import dataclasses
import typing

from absl import flags

from tfcolor import config as config_lib

FLAGS = flags.FLAGS


def _element_type(field_type):
  args = typing.get_args(field_type)
  return args[0] if args else str


def _define(field, flag_values):
  name, default = field.name, field.default
  help_text = field.metadata.get("help", name)
  choices = field.metadata.get("choices")
  if name in flag_values:
    return
  if choices is not None:
    flags.DEFINE_enum(name, default, list(choices), help_text, flag_values=flag_values)
  elif field.type is bool:
    flags.DEFINE_bool(name, default, help_text, flag_values=flag_values)
  elif field.type is int:
    flags.DEFINE_integer(name, default, help_text, flag_values=flag_values)
  elif field.type is float:
    flags.DEFINE_float(name, default, help_text, flag_values=flag_values)
  elif field.type is str:
    flags.DEFINE_string(name, default, help_text, flag_values=flag_values)
  elif typing.get_origin(field.type) is tuple:
    flags.DEFINE_list(name, [str(v) for v in default], help_text, flag_values=flag_values)
  else:
    raise TypeError(f"config field {name} has unsupported type {field.type}")


def define_dataclass_flags(cls, flag_values=FLAGS):
  """Defines one flag per field of a config dataclass (idempotent)."""
  for field in dataclasses.fields(cls):
    _define(field, flag_values)


def dataclass_from_flags(cls, flag_values=FLAGS):
  """Builds `cls` from the parsed flags named after its fields."""
  return cls(**{f.name: _value(f, flag_values) for f in dataclasses.fields(cls)})


def define_flags(sections=tuple(config_lib.SECTIONS), flag_values=FLAGS):
  """Defines the flags of the named experiment config sections (idempotent)."""
  for section in sections:
    define_dataclass_flags(config_lib.SECTIONS[section], flag_values)


def _value(field, flag_values):
  raw = flag_values[field.name].value
  if typing.get_origin(field.type) is not tuple:
    return raw
  element_type = _element_type(field.type)
  try:
    return tuple(element_type(v) for v in raw)
  except ValueError as error:
    raise ValueError(f"--{field.name}: cannot read {raw} as "
                     f"{element_type.__name__} values ({error})") from None


def config_from_flags(sections=tuple(config_lib.SECTIONS), flag_values=FLAGS):
  """Builds and validates an ExperimentConfig from parsed flags.

  Sections whose flags were not defined keep their defaults.
  """
  parts = {section: dataclass_from_flags(config_lib.SECTIONS[section], flag_values)
           for section in sections}
  return config_lib.validate(config_lib.ExperimentConfig(**parts))
