"""A picture of what the training pipeline feeds the model.

One row per example, columns: the ground-truth crop, each line art kind found
in the shown records (a blank tile where a record lacks that kind), the line
art fed to the model this time (one kind drawn per example), the hint map over
a checkerboard, and the hints painted over the fed line art. Crops, flips,
kinds and hints are the training pipeline's own (`make_preview_dataset`).
"""

import numpy as np

from tfcolor import visualize
from tfcolor.data import input_pipeline

_ABSENT_GREY = 235


def _hints_over_lineart(lineart, hints):
  """Fed line art in grey with the hint colours painted on top."""
  picture = visualize.to_uint8(lineart)
  mask = hints[..., 3:4] > 0.5
  return np.where(mask, visualize.to_uint8(hints[..., :3]), picture)


def render_preview(data_config, num_examples=8, seed=0):
  """The preview grid as a uint8 RGB array (see the module docstring).

  Args:
    data_config: DataConfig; `train_data` names the records shown.
    num_examples: rows.
    seed: seed of the training pipeline (crops, flips, kinds, hints).
  """
  if num_examples < 1:
    raise ValueError(f"--num_examples must be >= 1, got {num_examples}")
  dataset = input_pipeline.make_preview_dataset(data_config, seed)
  examples = [{name: value.numpy() for name, value in example.items()}
              for example in dataset.take(num_examples)]
  kinds = list(data_config.lineart_kinds)
  shown = [i for i in range(len(kinds))
           if any(example["lineart_present"][i] for example in examples)]
  rows = []
  for example in examples:
    size = example["image"].shape[:2]
    row = [visualize.to_uint8(example["image"])]
    for i in shown:
      row.append(visualize.to_uint8(example["lineart_kinds"][..., i])
                 if example["lineart_present"][i]
                 else np.full(size + (3,), _ABSENT_GREY, np.uint8))
    row += [visualize.to_uint8(example["lineart"]),
            visualize.hints_to_uint8(example["hints"]),
            _hints_over_lineart(example["lineart"], example["hints"])]
    rows.append(row)
  titles = (["ground truth"] + [kinds[i] for i in shown]
            + ["fed line art", "hints", "hints on line art"])
  return visualize.image_grid(rows, column_titles=titles)


def write_preview(data_config, output_path, num_examples=8, seed=0):
  """Renders the preview and writes it as a PNG (atomically); returns the grid."""
  grid = render_preview(data_config, num_examples, seed)
  visualize.save_png(output_path, grid)
  return grid
