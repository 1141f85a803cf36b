"""Keep only the class-conditional samples that a classifier reads as their label.

A class-conditional generator sometimes draws a digit that belongs to another class (a 4 that
reads as a 9): as training data for a classifier, that sample is a wrong label. With an
auxiliary classifier in the discriminator (AC-GAN), the GAN can check its own samples: each
sample the classifier reads as another class is drawn again, with the same label, until it
reads right. The price is the redrawn samples, returned as ``drawn``.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

from gan_lightning.sampling.rejection import RejectionError, RejectionSamples


def keep_classified(
    generate: Callable[[Tensor], Tensor],
    classify: Callable[[Tensor], Tensor],
    labels: Tensor,
    max_rounds: int = 50,
) -> RejectionSamples:
    """``generate(labels)`` with every image that ``classify`` (logits) reads as another class
    redrawn, up to ``max_rounds`` times; the images keep the order of ``labels``."""
    if max_rounds < 1:
        raise ValueError(f"max_rounds must be >= 1, got {max_rounds}.")
    images = generate(labels)
    drawn = len(labels)
    pending = (classify(images).argmax(dim=1) != labels).nonzero().flatten()
    for _ in range(max_rounds):
        if len(pending) == 0:
            return RejectionSamples(images, drawn)
        redrawn = generate(labels[pending])
        drawn += len(pending)
        right = classify(redrawn).argmax(dim=1) == labels[pending]
        images[pending[right]] = redrawn[right]
        pending = pending[~right]
    if len(pending) == 0:
        return RejectionSamples(images, drawn)
    classes = sorted({int(label) for label in labels[pending]})
    raise RejectionError(
        f"After {max_rounds} redraws, {len(pending)} samples of class(es) {classes} were still read as another "
        "class by the discriminator's classifier: the generator does not draw those classes. Pick the classes "
        "the GAN was trained on (--labels 0,1,2) or train longer.",
        len(labels) - len(pending),
        drawn,
    )
