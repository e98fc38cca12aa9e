"""The trainer's guard against NaN or infinite losses: stop without saving that step."""

import numpy as np

from tfcolor.training import gan as gan_lib


class NonFiniteLossError(FloatingPointError):
  """A loss became NaN or infinite; no checkpoint was written for that step."""



def check_finite(step, metrics, last_checkpoint=None):
  """Raises NonFiniteLossError naming the step and every non-finite loss term."""
  bad = {name: metrics[name] for name in gan_lib.LOSS_TERMS
         if name in metrics and not np.isfinite(metrics[name])}
  if bad:
    terms = ", ".join(f"{name}={value}" for name, value in bad.items())
    kept = (f"the last good checkpoint {last_checkpoint} is kept" if last_checkpoint
            else "no checkpoint was written")
    raise NonFiniteLossError(
        f"Non-finite loss at step {step}: {terms}; stopped without saving ({kept}). "
        "Try a lower --learning_rate, or --mixed_precision=none.")
