"""The tiny model configuration the model, export and FLOP tests share."""

from tfcolor.config import ModelConfig

# Every width of DESIGN.md's layer list, shrunk so a forward pass takes milliseconds.
TINY_MODEL = ModelConfig(
    stem_filters=8, down_filters=(8, 16, 16, 32), num_mid_blocks=2,
    csa_hint_filters=8, csa_attention_filters=8, up_filters=(16, 16, 8, 8),
    vgg_weights="none")
