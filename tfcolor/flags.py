"""absl flags derived from settings dataclasses, so each setting is written once.

Every field of a settings dataclass (the config sections of
`tfcolor/config.py`, or a tool's own, e.g. `serving.export.ExportConfig`)
becomes a flag of the same name with the field's default, help text and
allowed values. A CLI defines its flags only when run as a program (in its
`if __name__ == "__main__":` block, as vit_jax does), so importing any module
claims no flag name, and reads them back with `dataclass_from_flags` or
`config_from_flags` in `main`. absl rejects unknown flags (also inside
`--flagfile`), `config.validate` contradictory ones, before any work starts.
"""

import dataclasses
import typing

from absl import flags

from tfcolor import config as config_lib

FLAGS = flags.FLAGS


def _element_type(field_type):
  args = typing.get_args(field_type)
  return args[0] if args else str


def _define(field, flag_values, owner):
  name, default = field.name, field.default
  if name in flag_values:
    raise flags.DuplicateFlagError(
        f"--{name} of {owner.__module__}.{owner.__qualname__} is already defined "
        f"(by {flag_values.find_module_defining_flag(name, 'an unknown module')}); "
        "a program has one flag per setting")
  help_text = field.metadata.get("help", name)
  choices = field.metadata.get("choices")
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


def define_dataclass_flags(cls, flag_values=FLAGS, names=None):
  """Defines one flag per field of a settings dataclass (or only `names`).

  Raises flags.DuplicateFlagError naming the field if a flag of that name
  exists already.
  """
  for field in dataclasses.fields(cls):
    if names is None or field.name in names:
      _define(field, flag_values, cls)


def dataclass_from_flags(cls, flag_values=FLAGS):
  """Builds `cls` from the parsed flags named after its fields."""
  return cls(**{f.name: _value(f, flag_values) for f in dataclasses.fields(cls)})


def require(settings, *names):
  """Raises ValueError "--NAME is required" for the first of `names` left empty.

  For settings without a usable default (a path): their field defaults to "" so
  the dataclass still builds; `cli.run` prints the error in one line.
  """
  for name in names:
    if not getattr(settings, name):
      raise ValueError(f"--{name} is required")


def define_flags(sections=tuple(config_lib.SECTIONS), flag_values=FLAGS):
  """Defines the flags of the named experiment config sections."""
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
