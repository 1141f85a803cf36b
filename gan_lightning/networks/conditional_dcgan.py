"""A class-conditional DCGAN discriminator: DCGAN's conv trunk with a projection head.

SNGAN's ResNet discriminator (configs/cgan.yaml) works on full-resolution features and costs
about three times as much per image on a CPU; this one keeps DCGAN's strided convs (Radford
et al. 2016) and scores ``ψ(φ(x)) + ⟨embed(y), φ(x)⟩`` (Miyato & Koyama 2018, Eq. 3) with φ
the flattened last feature map, so a class-conditional GAN trains in minutes on one core
(configs/augmentation.yaml).
"""

from __future__ import annotations

from torch import Tensor, nn

from gan_lightning.networks.conditional import ProjectionHead, auxiliary_logits
from gan_lightning.networks.dcgan import DCGANDiscriminator
from gan_lightning.networks.layers import Normalization


class ProjectionDCGANDiscriminator(DCGANDiscriminator):
    """:class:`DCGANDiscriminator` whose last conv (a linear map of the flattened
    ``start × start`` features) becomes a :class:`ProjectionHead` over the same features:
    with ``num_classes=0`` it is the plain DCGAN discriminator's score again.

    ``aux_classes`` > 0 adds an auxiliary classifier on those features, :meth:`classify`
    (AC-GAN, Odena et al. 2017; with the projection head as well, the class is both a
    condition of the score and a target): ``tasks.ACGAN`` trains it, and ``gan-lightning
    sample --labels ... --keep-classified`` uses it to keep only samples it reads as their label."""

    def __init__(
        self,
        image_size: int = 28,
        channels: int = 1,
        base_width: int = 64,
        num_classes: int = 10,
        norm: Normalization = "spectral",
        aux_classes: int = 0,
    ) -> None:
        super().__init__(image_size=image_size, channels=channels, base_width=base_width, norm=norm)
        if num_classes < 0 or aux_classes < 0:
            raise ValueError(
                f"num_classes and aux_classes must be >= 0 (0: none), got {num_classes} and {aux_classes}."
            )
        self.num_classes = num_classes
        self.aux_classes = aux_classes
        last = self.net[-1]
        assert isinstance(last, nn.Module)
        features = last.in_channels * last.kernel_size[0] * last.kernel_size[1]  # type: ignore[operator]
        self.net = self.net[:-1]
        self.head = ProjectionHead(features, num_classes, spectral=norm == "spectral")
        classifier = nn.Linear(features, aux_classes) if aux_classes > 0 else None
        if classifier is not None and norm == "spectral":
            classifier = nn.utils.parametrizations.spectral_norm(classifier)
        self.classifier = classifier

    def features(self, x: Tensor) -> Tensor:
        """The flattened last feature map φ(x), shape (B, features)."""
        if x.dim() != 4 or x.shape[1:] != (self.channels, self.image_size, self.image_size):
            raise ValueError(
                f"{type(self).__name__} expects images of shape (B, {self.channels}, {self.image_size}, "
                f"{self.image_size}) but got {tuple(x.shape)}: set its channels/image_size to the data's."
            )
        return self.net(x).flatten(1)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.head(self.features(x), labels)

    def classify(self, x: Tensor) -> Tensor:
        """Class logits (B, aux_classes) of the auxiliary classifier."""
        return auxiliary_logits(self.classifier, self.features(x))
