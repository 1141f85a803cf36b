"""The shipped MNIST classifier: it reads held-out digits, at any input size."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.mnist import MNISTFeatures


def test_mnist_classifier_recognises_held_out_digits(mnist_split) -> None:
    _, _, images, labels = mnist_split
    features, logits = MNISTFeatures().extract(images[:200])
    assert features.shape == (200, MNISTFeatures.num_features)
    assert (logits.argmax(1) == labels[:200]).float().mean() > 0.95
    # 8×8 and 32-px inputs are resized, not rejected
    small = torch.nn.functional.interpolate(images[:4], size=8, mode="area")
    assert MNISTFeatures(digit_box=20).extract(small)[0].shape == (4, 64)
    assert MNISTFeatures().extract(torch.zeros(2, 3, 32, 32))[0].shape == (2, 64)
    with pytest.raises(ValueError, match="digit_box"):
        MNISTFeatures(digit_box=40)
