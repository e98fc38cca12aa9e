"""Networks: CSA generator, Table 1 baselines, discriminators, frozen VGG19 features.

Importing this package registers every layer for Keras deserialisation
(`keras.models.load_model` of a saved generator needs `import tfcolor.models`).
"""

from tfcolor.models.ci2018 import Ci2018Generator, HintDownsampling
from tfcolor.models.ci2018_critic import Ci2018Critic
from tfcolor.models.ci2018_layers import GroupedConv2D, PixelShuffle, ResNeXtBlock
from tfcolor.models.csa_block import CSABlock
from tfcolor.models.discriminator import MultiScaleDiscriminator, PatchDiscriminator
from tfcolor.models.factory import (build_discriminator, build_generator,
                                    build_perceptual, build_vgg19)
from tfcolor.models.generator import ColorizationGenerator
from tfcolor.models.instance_norm import instance_norm
from tfcolor.models.local_features import LocalFeatures, load_local_features
from tfcolor.models.pix2pixhd import Pix2PixHDGenerator
from tfcolor.models.reflection_padding import ReflectionPadding2D
from tfcolor.models.resnet_block import ResnetBlock
from tfcolor.models.vgg import HintEncoder, PerceptualFeatures
