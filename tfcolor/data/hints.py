"""Colour hints sampled from the ground truth, as in Zhang et al. 2017 (DESIGN.md).

A hint is a small square patch filled with the mean colour of the ground truth
under it. For one example:
- the patch count N is geometric counted from 0: keep adding a patch while a
  uniform draw is < 1 - p, so P(N=0) = p and the mean is (1 - p) / p (7 for the
  paper's p = 0.125). N is capped at `MAX_HINT_PATCHES` (64): at p = 0.125,
  P(N > 64) = 0.875**65 ~ 2e-4, and those draws keep 64 patches;
- each patch side P is uniform on 1..max_side (clamped to the image size);
- the top-left corner is drawn from a normal with mean (H - P + 1) / 2 and std
  (H - P + 1) / 4 (same for W), rounded and clipped to [0, H - P], so every
  patch lies inside the image and hints gather near the centre;
- where patches overlap, the later patch wins (its colour, its mean).

A run may mix two hint densities (`--hint_dense_fraction`): each example then
draws its count with `--hint_dense_geometric_p` (dense: many patches, much
colour to learn from) with that probability, else with `--hint_geometric_p`
(sparse: the handful of points a person gives). The choice is one more
stateless draw from a seed folded from the example's seed, so the other draws
are the same as without the mix. `HintSampling` holds these settings, and
`HintSampling.from_config(data_config)` reads them: the one definition of the
hint draw for training, evaluation and the trainer's sample grids.

The result is (H, W, 4): RGB in [-1, 1] where hinted and 0 elsewhere, then the
mask (1 = hinted). Everything is stateless random ops on an explicit seed, so
the same seed gives the same hints on every run and on every machine; training
derives a seed per example, evaluation from the example's key.

The construction is vectorised, with no loop over patches, and works on a
batch at once (the training pipeline paints after batching): the patch pixels
are gathered for the means; the index of the last patch covering each pixel
is painted with one `tensor_scatter_nd_max` (deterministic, unlike a scatter
update with duplicate indices); then the patch cells that own their pixel are
scattered into a zero (H, W, 4) map. Besides writing the output, the cost is
O(max(N) * max_side**2) per image: about 1.6 ms of CPU per 512 x 512 image
here, where a broadcast over an (N, H, W) grid took ~140 ms and a per-pixel
palette gather ~8 ms.
"""

import collections
import dataclasses

import tensorflow as tf

MAX_HINT_PATCHES = 64
_DENSE_DRAW_SALT = 0xD5 # Folded into an example's seed for its dense/sparse choice.


@dataclasses.dataclass(frozen=True)
class HintSampling:
  """How one example's hints are drawn (the hint fields of `DataConfig`).

  geometric_p: P(N = 0) of the sparse geometric patch count.
  max_side: patch sides are uniform on 1..max_side (clamped to min(H, W)).
  dense_geometric_p: P(N = 0) of the dense count.
  dense_fraction: probability that an example draws the dense count.
  max_patches: cap on N.
  """

  geometric_p: float = 0.125
  max_side: int = 8
  dense_geometric_p: float = 0.02
  dense_fraction: float = 0.0
  max_patches: int = MAX_HINT_PATCHES

  @classmethod
  def from_config(cls, data_config):
    return cls(geometric_p=data_config.hint_geometric_p,
               max_side=data_config.hint_max_side,
               dense_geometric_p=data_config.hint_dense_geometric_p,
               dense_fraction=data_config.hint_dense_fraction)

HintPatches = collections.namedtuple("HintPatches", ["count", "sides", "tops", "lefts"])
HintPatches.__doc__ = """Raw draws of one example's hints.

count: int32 scalar N in [0, MAX_HINT_PATCHES]. sides, tops, lefts: int32
(max_patches,); only the first `count` entries are used, in order.
"""


def sample_hint_patches(height, width, seed, sampling=HintSampling()):
  """Draws the hint patch count, sides and corners for an image of height x width.

  Args:
    height, width: int scalars (Python or tensors) of the image.
    seed: int32/int64 shape-[2] tensor for the stateless random ops.
    sampling: a `HintSampling` (default: the paper's sparse draw).

  Returns:
    HintPatches of int32 tensors.
  """
  height = tf.cast(height, tf.int32)
  width = tf.cast(width, tf.int32)
  max_patches, max_side = sampling.max_patches, sampling.max_side
  count_seed, side_seed, top_seed, left_seed = tf.unstack(
      tf.random.experimental.stateless_split(seed, num=4))

  geometric_p = tf.constant(sampling.geometric_p, tf.float32)
  if sampling.dense_fraction > 0:
    dense_seed = tf.random.experimental.stateless_fold_in(seed, _DENSE_DRAW_SALT)
    dense = tf.random.stateless_uniform([], dense_seed) < sampling.dense_fraction
    geometric_p = tf.where(dense, tf.constant(sampling.dense_geometric_p, tf.float32),
                           geometric_p)
  keep_going = tf.random.stateless_uniform([max_patches], count_seed) < 1.0 - geometric_p
  count = tf.reduce_sum(tf.math.cumprod(tf.cast(keep_going, tf.int32)))

  sides = tf.random.stateless_uniform(
      [max_patches], side_seed, minval=1, maxval=max_side + 1, dtype=tf.int32)
  sides = tf.minimum(sides, tf.minimum(height, width))

  def corner(size, corner_seed):
    room = tf.cast(size - sides + 1, tf.float32)  # H - P + 1
    draw = tf.random.stateless_normal([max_patches], corner_seed,
                                      mean=0.0, stddev=1.0)
    position = tf.round(room / 2.0 + draw * room / 4.0)
    return tf.cast(tf.clip_by_value(position, 0.0, room - 1.0), tf.int32)

  return HintPatches(count=count, sides=sides, tops=corner(height, top_seed),
                     lefts=corner(width, left_seed))


def hints_from_patches(image, patches):
  """Paints the hint patches of `patches` with the mean colour of `image`.

  Args:
    image: (H, W, 3) or batched (B, H, W, 3) float32 ground truth in [-1, 1].
    patches: HintPatches (e.g. from `sample_hint_patches`); batched images take
      batched patches (count (B,), the others (B, N)).

  Returns:
    (H, W, 4) or (B, H, W, 4) float32: RGB where hinted, 0 elsewhere, then the
    0/1 mask.
  """
  image = tf.convert_to_tensor(image, tf.float32)
  if image.shape.rank == 3:
    batched = HintPatches(*(tf.expand_dims(field, 0) for field in patches))
    return _paint_batch(image[None], batched)[0]
  if image.shape.rank != 4:
    raise ValueError(f"hints_from_patches: image must be (H, W, 3) or (B, H, W, 3), "
                     f"got shape {image.shape}")
  return _paint_batch(image, patches)


def _paint_batch(images, patches):
  """hints_from_patches on (B, H, W, 3) images and (B, N) patches."""
  shape = tf.shape(images)
  batch, height, width = shape[0], shape[1], shape[2]
  # Only the first max(count) patches are used by any example: drop the rest.
  num_patches = tf.maximum(tf.reduce_max(patches.count), 1)
  patches = HintPatches(patches.count, *(field[:, :num_patches] for field in patches[1:]))
  steps = tf.range(tf.reduce_max(patches.sides))
  sides = patches.sides[..., None]  # (B, N, 1)

  # Cells of each patch's max_side x max_side box: (B, N, S, S) whether the
  # cell is inside the patch and (B, N, S, S, 3) its (example, row, column);
  # cells outside the patch are clipped into the image and carry no weight.
  step_inside = steps < sides  # (B, N, S)
  inside = tf.logical_and(step_inside[..., :, None], step_inside[..., None, :])
  rows = tf.minimum(patches.tops[..., None] + steps, height - 1)
  cols = tf.minimum(patches.lefts[..., None] + steps, width - 1)
  cell_shape = tf.shape(inside)
  examples = tf.range(batch)[:, None, None, None]
  indices = tf.stack([tf.broadcast_to(examples, cell_shape),
                      tf.broadcast_to(rows[..., :, None], cell_shape),
                      tf.broadcast_to(cols[..., None, :], cell_shape)], axis=-1)

  # Mean colour of the ground truth inside each patch.
  weights = tf.cast(inside, tf.float32)[..., None]
  patch_pixels = tf.gather_nd(images, indices)  # (B, N, S, S, 3)
  area = tf.cast(tf.square(patches.sides), tf.float32)[..., None]
  colours = tf.reduce_sum(patch_pixels * weights, axis=[2, 3]) / area  # (B, N, 3)

  # Index (1-based) of the last patch covering each pixel; 0 = no hint. Then
  # each pixel takes its values from the one patch cell that owns it.
  used = tf.range(num_patches) < patches.count[:, None]  # (B, N)
  order = tf.where(used, tf.range(1, num_patches + 1), 0)
  labels = tf.where(inside, order[..., None, None], 0)  # (B, N, S, S)
  flat_indices = tf.reshape(indices, [-1, 3])
  owner = tf.tensor_scatter_nd_max(
      tf.zeros([batch, height, width], tf.int32), flat_indices, tf.reshape(labels, [-1]))
  owns = tf.logical_and(labels > 0, tf.equal(tf.gather_nd(owner, indices), labels))
  values = tf.concat([colours, tf.ones_like(colours[..., :1])], axis=-1)  # (B, N, 4)
  values = tf.where(owns[..., None], values[..., None, None, :], 0.0)
  # scatter_nd sums updates to the same pixel into zeros; every pixel gets at
  # most one non-zero update, so the sum is exact.
  return tf.scatter_nd(flat_indices, tf.reshape(values, [-1, 4]),
                       tf.stack([batch, height, width, 4]))


def sample_hints(image, seed, sampling=HintSampling()):
  """Random colour hints for one ground-truth image (see the module docstring).

  Args:
    image: (H, W, 3) float32 in [-1, 1].
    seed: int32/int64 shape-[2] tensor for the stateless random ops.
    sampling: a `HintSampling`, as in `sample_hint_patches`.

  Returns:
    (H, W, 4) float32 hints: RGB in [-1, 1] where hinted, 0 elsewhere, then the mask.
  """
  image = tf.convert_to_tensor(image, tf.float32)
  shape = tf.shape(image)
  patches = sample_hint_patches(shape[0], shape[1], seed, sampling)
  hints = hints_from_patches(image, patches)
  return tf.ensure_shape(hints, image.shape[:2].concatenate([4]))
