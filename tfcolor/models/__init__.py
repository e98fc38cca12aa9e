"""Networks: CSA generator, multi-scale PatchGAN, frozen VGG19 features.

Importing this package registers every layer for Keras deserialisation
(`keras.models.load_model` of a saved generator needs `import tfcolor.models`).
"""

from tfcolor.models.csa_block import CSABlock
from tfcolor.models.discriminator import MultiScaleDiscriminator, PatchDiscriminator
from tfcolor.models.factory import (build_discriminator, build_generator,
                                    build_perceptual, build_vgg19)
from tfcolor.models.generator import ColorizationGenerator
from tfcolor.models.instance_norm import instance_norm
from tfcolor.models.reflection_padding import ReflectionPadding2D
from tfcolor.models.resnet_block import ResnetBlock
from tfcolor.models.vgg import HintEncoder, PerceptualFeatures
