"""absl flags derived from `tfcolor.config`, so each setting is written once.

Every field of the config sections becomes a flag of the same name with the
field's default, help text and allowed values. CLIs call `define_flags()` at
import time and `config_from_flags()` in `main`; absl itself rejects unknown
flags (also inside `--flagfile`), and `config.validate` rejects contradictory
ones, both before any work starts.

One process has one flag per name. Defining a name again is a no-op when the
definition is the same setting (same type, default and allowed values; the
help text may differ, the first one is shown), so several CLIs and config
sections can share e.g. --model_dir. Any other redefinition raises
`flags.DuplicateFlagError` naming the flag and both definitions, instead of
silently giving one tool the other's flag.
"""

import dataclasses
import typing
import weakref

from absl import flags

from tfcolor import config as config_lib

FLAGS = flags.FLAGS

# Flag object -> "module.Class.field" that defined it, for error messages
# (absl records every flag defined here as defined by this module).
_DEFINED_BY = weakref.WeakKeyDictionary()


def _element_type(field_type):
  args = typing.get_args(field_type)
  return args[0] if args else str


def _define_new(field, flag_values):
  name, default = field.name, field.default
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
  return flag_values[name]


def _setting(flag):
  """What makes two definitions the same setting: type, default, choices."""
  return (flag.flag_type(), flag.default, getattr(flag.parser, "enum_values", None))


def _describe(flag, defined_by):
  flag_type, default, choices = _setting(flag)
  choices = f" of {list(choices)}" if choices is not None else ""
  return f"{defined_by} as {flag_type}{choices}, default {default!r} ({flag.help!r})"


def _define(field, flag_values, owner):
  """Defines `field`'s flag, shares an identical one, or raises on a clash."""
  defined_by = f"{owner.__module__}.{owner.__qualname__}.{field.name}"
  if field.name not in flag_values:
    _DEFINED_BY[_define_new(field, flag_values)] = defined_by
    return
  existing = flag_values[field.name]
  wanted = _define_new(field, flags.FlagValues())
  if _setting(existing) == _setting(wanted):
    return
  first = _DEFINED_BY.get(existing) or (
      f"module {flag_values.find_module_defining_flag(field.name, 'unknown')}")
  raise flags.DuplicateFlagError(
      f"--{field.name} is defined twice, differently: first by "
      f"{_describe(existing, first)}, then by {_describe(wanted, defined_by)}. "
      "A process has one flag per name: rename one of them, or make them the same "
      "setting (type, default and choices; the help text may differ).")


def define_dataclass_flags(cls, flag_values=FLAGS):
  """Defines one flag per field of a config dataclass.

  Idempotent, and a flag of the same name, type, default and choices (from
  another dataclass or module) is shared; a different one raises
  `flags.DuplicateFlagError` naming both definitions.
  """
  for field in dataclasses.fields(cls):
    _define(field, flag_values, cls)


def dataclass_from_flags(cls, flag_values=FLAGS):
  """Builds `cls` from the parsed flags named after its fields."""
  return cls(**{f.name: _value(f, flag_values) for f in dataclasses.fields(cls)})


def define_flags(sections=tuple(config_lib.SECTIONS), flag_values=FLAGS):
  """Defines the flags of the named experiment config sections (idempotent).

  Raises flags.DuplicateFlagError if a name is already a different flag.
  """
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
