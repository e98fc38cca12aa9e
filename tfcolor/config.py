"""Typed experiment configuration: the one place every setting lives.

Each field is also a command-line flag of the same name: `tfcolor.flags` derives
the absl flags (type, default, help, allowed values) from these dataclasses, and
turns parsed flags back into an `ExperimentConfig`. The library only ever sees
config objects, never flags. Defaults are the paper's settings (see DESIGN.md);
`configs/*.cfg` flagfiles override them.
"""

import dataclasses
import typing
from typing import Tuple

from absl import logging

LINEART_KINDS = ("xdog", "sketchkeras", "simplification")
PAPER_LINEART_PROBS = (0.1, 0.5, 0.4)
GENERATORS = ("csa", "resnet", "pix2pixhd", "ci2018")
DISCRIMINATORS = ("patchgan", "ci2018_critic")
ADVERSARIAL_LOSSES = ("bce", "lsgan", "hinge", "wgan_gp")
STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker", "tpu")
MIXED_PRECISION_POLICIES = ("none", "mixed_float16", "mixed_bfloat16")
EVAL_MODES = ("center_crop", "full")
# Image sides the generators take: they downsample 4 times by 2.
SIZE_MULTIPLE = 16


def field(default, help_text, choices=None):
  """A dataclass field that carries its flag help text and allowed values."""
  metadata = {"help": help_text}
  if choices is not None:
    metadata["choices"] = tuple(choices)
  return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class DataConfig:
  """Input pipeline settings (tfcolor.data)."""

  train_data: str = field("", "Glob(s) of training TFRecord files, comma separated.")
  eval_data: str = field("", "Glob(s) of evaluation TFRecord files, comma separated.")
  crop_size: int = field(512, "Side of the square training crop (multiple of 16).")
  lineart_kinds: Tuple[str, ...] = field(
      LINEART_KINDS, "Line art kinds to draw from (over those present per example).")
  lineart_probs: Tuple[float, ...] = field(
      PAPER_LINEART_PROBS, "Probability of each of --lineart_kinds (renormalised).")
  hint_geometric_p: float = field(
      0.125, "Geometric p of the hint count from 0: P(N=0)=p, mean (1-p)/p.")
  hint_max_side: int = field(8, "Hint patch side is uniform on 1..hint_max_side.")
  hint_dense_fraction: float = field(
      0.0, "Probability that an example's hint count is drawn dense, with "
      "--hint_dense_geometric_p, instead of sparse with --hint_geometric_p (0 = "
      "the paper). The trainer's sample grids always draw sparse hints.")
  hint_dense_geometric_p: float = field(
      0.02, "Geometric p of the dense hint count (mean (1-p)/p, capped at 64).")
  shuffle_buffer: int = field(1024, "Examples in the training shuffle buffer.")
  num_parallel_calls: int = field(
      -1, "Parallel calls of the per-example map (-1 = tf.data.AUTOTUNE).")
  deterministic_train_input: bool = field(
      False, "Fix the order of training examples so a run is reproducible for "
      "--seed (slower); augmentation and hints are seeded per example anyway.")
  eval_mode: str = field(
      "center_crop", "Evaluation input: centre crop of --crop_size, or full image.",
      EVAL_MODES)
  max_dropped_fraction: float = field(
      0.01, "Stop with an error when more than this share of the records read has "
      "none of --lineart_kinds (such records are dropped and counted; the share is "
      "taken over at least 100 records).")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
  """Generator and discriminator architecture (tfcolor.models)."""

  generator: str = field(
      "csa", "csa (ours), resnet (ours w/o module), pix2pixhd (the global generator "
      "of Wang et al. 2018) or ci2018 (Ci et al. 2018); Table 1's four rows.",
      GENERATORS)
  stem_filters: int = field(64, "Width of the 7x7 stem (E0) and the last up step.")
  down_filters: Tuple[int, ...] = field(
      (128, 256, 512, 1024), "Widths of the four stride-2 downsampling convs E1..E4.")
  num_mid_blocks: int = field(8, "CSA (or ResNet) blocks at 1/16 size.")
  csa_hint_filters: int = field(
      256, "Width of each CSA block's three convs on the VGG hint feature.")
  csa_attention_filters: int = field(
      256, "Width of the CSA conv before the 1-channel attention map.")
  up_filters: Tuple[int, ...] = field(
      (512, 256, 128, 64), "Widths of the four upsampling steps.")
  norm_epsilon: float = field(1e-5, "Instance norm epsilon (PyTorch's default).")
  ci2018_filters: int = field(
      64, "ci2018: base width (ngf, even) of Ci et al.'s generator, and ndf of "
      "--discriminator=ci2018_critic.")
  ci2018_blocks: Tuple[int, ...] = field(
      (20, 8, 8, 5), "ci2018: ResNeXt blocks in the generator's four decoder "
      "tunnels, 1/16 size first (the paper's 20, 8, 8, 5; dilations 1 in the first, "
      "rising 1, 2, 4 and falling 2, 1 in the others).")
  local_features: str = field(
      "", "ci2018: path of the pretrained local feature network (a .keras model: "
      "line art (B, H, W, 1) in [-1, 1] -> features (B, H/16, W/16, C); the paper "
      "uses Illustration2Vec), frozen, fed to the ci2018 generator and critic; '' "
      "disables the branch.")
  vgg_weights: str = field(
      "imagenet", "VGG19 weights: imagenet, none (random; tests), or a .h5 path.")
  discriminator: str = field(
      "patchgan", "patchgan (multi-scale PatchGANs, ours) or ci2018_critic (the "
      "WGAN-GP critic of Ci et al. 2018, width --ci2018_filters, for "
      "--adversarial_loss=wgan_gp).", DISCRIMINATORS)
  num_discriminators: int = field(3, "PatchGAN discriminators at halving scales.")
  discriminator_filters: Tuple[int, ...] = field(
      (64, 128, 256, 512), "Widths of the PatchGAN's four 4x4 convs before the logits.")


@dataclasses.dataclass(frozen=True)
class LossConfig:
  """Generator and discriminator objectives (tfcolor.training.losses)."""

  adversarial_loss: str = field(
      "bce", "Adversarial loss: bce (log loss), lsgan, hinge, or wgan_gp (Wasserstein "
      "with gradient penalty, Ci et al. 2018).", ADVERSARIAL_LOSSES)
  adversarial_weight: float = field(
      1.0, "Weight of the generator's adversarial loss (Ci et al. use 1e-4).")
  gradient_penalty_weight: float = field(
      10.0, "wgan_gp: weight of the critic's gradient penalty (lambda).")
  drift_weight: float = field(
      1e-3, "wgan_gp: weight of the critic's drift term D(real)^2.")
  feature_matching_weight: float = field(10.0, "Weight of the feature matching loss.")
  perceptual_weight: float = field(10.0, "Weight of the VGG19 perceptual loss.")
  perceptual_layer_weights: Tuple[float, ...] = field(
      (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0),
      "Weights of VGG19 relu1_1, relu2_1, relu3_1, relu4_1, relu5_1.")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """Optimisation, distribution, checkpoints and logging (tfcolor.training)."""

  model_dir: str = field("", "Checkpoints, TensorBoard logs and sample grids go here.")
  train_steps: int = field(100_000, "Total training iterations (D and G once each).")
  global_batch_size: int = field(32, "Batch over all replicas.")
  learning_rate: float = field(2e-4, "Adam learning rate of G and D.")
  lr_decay_fraction: float = field(
      0.0, "Fraction of --train_steps, at the end, over which the learning rate of G "
      "and D falls linearly from --learning_rate to 0 (pix2pixHD's schedule; it "
      "follows the optimizers' step count, so a resumed run continues it); 0 keeps "
      "it constant.")
  beta_1: float = field(0.5, "Adam beta_1.")
  beta_2: float = field(0.999, "Adam beta_2.")
  strategy: str = field(
      "auto", "auto = mirrored over visible GPUs, else one device.", STRATEGIES)
  mixed_precision: str = field(
      "none", "Keras dtype policy.", MIXED_PRECISION_POLICIES)
  jit_compile: bool = field(False, "XLA-compile the train step.")
  checkpoint_every: int = field(1000, "Save a checkpoint every N steps (and at the end).")
  keep_checkpoints: int = field(5, "Checkpoints kept in --model_dir.")
  log_every: int = field(50, "Write scalars to TensorBoard every N steps.")
  image_every: int = field(
      500, "Write an image grid (TensorBoard and model_dir/samples/) every N steps.")
  num_samples: int = field(
      6, "Rows (fixed eval examples) in the sample grids: line art | hints | output | "
      "ground truth.")
  seed: int = field(0, "Seed of weight init and data order.")
  tpu: str = field(
      "", "TPU name or grpc:// address for --strategy=tpu ('' = the local TPU).")


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
  """Everything one run needs; built once by a CLI from its flags."""

  data: DataConfig = dataclasses.field(default_factory=DataConfig)
  model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
  loss: LossConfig = dataclasses.field(default_factory=LossConfig)
  train: TrainConfig = dataclasses.field(default_factory=TrainConfig)


@dataclasses.dataclass(frozen=True)
class EvalConfig:
  """Evaluation of a trained run (tfcolor.evaluate, tfcolor.table)."""

  split: str = field(
      "test", "Split to evaluate: its TFRecords <split>-*.tfrecord are looked up in "
      "the folder of the run's first --train_data glob unless --eval_files is given.")
  eval_files: str = field(
      "", "Glob(s) of the TFRecords to evaluate, comma separated; overrides the "
      "--split lookup (--split then only names the results).")
  checkpoint: str = field(
      "", "Checkpoint path (prefix) to evaluate; '' = the run's latest.")
  eval_batch_size: int = field(8, "Examples per evaluation batch (results do not "
                               "depend on it).")
  max_eval_examples: int = field(0, "Evaluate at most this many examples (0 = all).")
  fid_inception: str = field(
      "", "Inception for FID: path of the 2015 graph classify_image_graph_def.pb "
      "(comparable with papers), 'keras' (Keras InceptionV3 ImageNet weights, not "
      "comparable), or '' to skip FID.")
  grid_rows: int = field(8, "Examples shown in the evaluation image grid.")
  hint_region_threshold: int = field(
      128, "Hint fidelity: line art pixels at or above this grey level (0-255) are "
      "paper; the regions hints fall in are 4-connected areas of paper.")


SECTIONS = {"data": DataConfig, "model": ModelConfig, "loss": LossConfig,
            "train": TrainConfig}


def check_size(name, size):
  """Raises ValueError naming `name` unless `size` is a positive multiple of 16."""
  if size <= 0 or size % SIZE_MULTIPLE:
    raise ValueError(f"{name} must be a positive multiple of {SIZE_MULTIPLE} (the "
                     f"generator downsamples 4 times), got {size}")


def lineart_kind_probabilities(data_config):
  """(kinds, probabilities) of the line art kinds; ValueError naming the flag if unusable."""
  kinds = tuple(data_config.lineart_kinds)
  probs = tuple(float(p) for p in data_config.lineart_probs)
  if not kinds:
    raise ValueError("--lineart_kinds is empty")
  if len(probs) != len(kinds):
    raise ValueError(f"--lineart_probs has {len(probs)} values but --lineart_kinds "
                     f"has {len(kinds)}")
  if any(p <= 0 for p in probs):
    raise ValueError(f"--lineart_probs must all be > 0, got {probs}")
  return kinds, probs


def validate(config):
  """Raises ValueError naming the flag for settings that cannot work together."""
  data, model = config.data, config.model
  unknown = set(data.lineart_kinds) - set(LINEART_KINDS)
  if unknown:
    raise ValueError(f"--lineart_kinds: unknown kinds {sorted(unknown)}; "
                     f"known: {list(LINEART_KINDS)}")
  lineart_kind_probabilities(data)
  check_size("--crop_size", data.crop_size)
  if not 0 <= data.max_dropped_fraction <= 1:
    raise ValueError("--max_dropped_fraction must be in [0, 1], got "
                     f"{data.max_dropped_fraction}")
  if not 0 < data.hint_geometric_p <= 1:
    raise ValueError(f"--hint_geometric_p must be in (0, 1], got {data.hint_geometric_p}")
  if not 0 < data.hint_dense_geometric_p <= 1:
    raise ValueError("--hint_dense_geometric_p must be in (0, 1], got "
                     f"{data.hint_dense_geometric_p}")
  if not 0 <= data.hint_dense_fraction <= 1:
    raise ValueError(f"--hint_dense_fraction must be in [0, 1], got {data.hint_dense_fraction}")
  if data.hint_max_side < 1 or data.hint_max_side > data.crop_size:
    raise ValueError(f"--hint_max_side must be in 1..crop_size, got {data.hint_max_side}")
  if len(model.down_filters) != 4 or len(model.up_filters) != 4:
    raise ValueError("--down_filters and --up_filters need exactly 4 widths each "
                     "(the hint feature is at 1/8 size, the mid blocks at 1/16)")
  if len(model.discriminator_filters) != 4:
    raise ValueError("--discriminator_filters needs exactly 4 widths")
  if model.num_discriminators < 1:
    raise ValueError("--num_discriminators must be >= 1")
  if model.ci2018_filters < 2 or model.ci2018_filters % 2:
    raise ValueError("--ci2018_filters must be even and >= 2 (the first conv has "
                     f"half as many), got {model.ci2018_filters}")
  if len(model.ci2018_blocks) != 4 or any(count < 0 for count in model.ci2018_blocks):
    raise ValueError("--ci2018_blocks needs 4 block counts >= 0 (one per decoder "
                     f"tunnel, 1/16 size first), got {model.ci2018_blocks}")
  for name in ("adversarial_weight", "feature_matching_weight", "perceptual_weight",
               "gradient_penalty_weight", "drift_weight"):
    if getattr(config.loss, name) < 0:
      raise ValueError(f"--{name} must be >= 0, got {getattr(config.loss, name)}")
  if len(config.loss.perceptual_layer_weights) != 5:
    raise ValueError("--perceptual_layer_weights needs 5 values (relu1_1..relu5_1)")
  train = config.train
  if train.global_batch_size < 1:
    raise ValueError("--global_batch_size must be >= 1")
  if train.train_steps < 0:
    raise ValueError("--train_steps must be >= 0")
  if not 0.0 <= train.lr_decay_fraction <= 1.0:
    raise ValueError(f"--lr_decay_fraction must be in [0, 1], got {train.lr_decay_fraction}")
  for name in ("checkpoint_every", "keep_checkpoints", "log_every", "image_every",
               "num_samples"):
    if getattr(train, name) < 1:
      raise ValueError(f"--{name} must be >= 1")
  if train.jit_compile and train.strategy in ("mirrored", "multi_worker"):
    raise ValueError("--jit_compile does not work with --strategy="
                     f"{train.strategy} in TF 2.21; drop one of them")
  return config


def to_dict(config):
  """A JSON-friendly dict of a config, for logs and `model_dir/config.json`."""
  return dataclasses.asdict(config)


def _section_from_dict(cls, values, path):
  known = {f.name: f for f in dataclasses.fields(cls)}
  unknown = sorted(set(values) - set(known))
  if unknown:
    logging.warning("%s: ignoring unknown %s fields %s (written by a newer "
                    "version?)", path, cls.__name__, unknown)
  kwargs = {}
  for name, value in values.items():
    if name not in known:
      continue
    if typing.get_origin(known[name].type) is tuple:
      value = tuple(value)
    kwargs[name] = value
  return cls(**kwargs)


def from_dict(values, path="config.json"):
  """`to_dict` in reverse: JSON lists become tuples again.

  Missing sections and fields keep their defaults; unknown ones are logged and
  ignored. `path` is named in messages.
  """
  if not isinstance(values, dict):
    raise ValueError(f"{path}: expected a JSON object, got {type(values).__name__}")
  sections = {name: _section_from_dict(cls, values.get(name, {}), path)
              for name, cls in SECTIONS.items()}
  return ExperimentConfig(**sections)
