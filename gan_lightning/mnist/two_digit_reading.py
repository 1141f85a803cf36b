"""Reading two-digit canvases back: is each digit where the caption's relation puts it?

The relation puts the caption's first digit in one half of the canvas and the second in the
opposite half (:mod:`~gan_lightning.mnist.two_digits`). The shipped MNIST classifier reads the
window of each half where the digit should be (:func:`~gan_lightning.mnist.caption_reading.crop_windows`,
as the one-digit reader does); the ink's extent in the half reads the size. The same reading of
real held-out canvases is the ceiling the instrument allows.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gan_lightning.mnist.caption_reading import crop_windows, ink_extent, stated
from gan_lightning.mnist.classifier import shipped_digit_reader
from gan_lightning.mnist.two_digits import TwoDigitLayout, slots


def half_sizes(images: Tensor, positions: Tensor, layout: TwoDigitLayout) -> Tensor:
    """(N,) 1 large / 0 small: the ink's extent in each image's half ``positions[i]``."""
    sizes = torch.zeros(len(images), dtype=torch.long, device=images.device)
    for position in positions.unique().tolist():
        chosen = positions == position
        sizes[chosen] = (ink_extent(layout.half(images[chosen], position)) > layout.size_threshold).long()
    return sizes


def read_slots(
    images: Tensor, positions: Tensor, said_sizes: Tensor, layout: TwoDigitLayout
) -> tuple[Tensor, Tensor, Tensor]:
    """The classifier's (features, log-probabilities over digits) of each image's window in half
    ``positions[i]``, and the size read there. The window is the stated size's; where the
    caption leaves the size out, the size read from the ink."""
    measured = half_sizes(images, positions, layout)
    frames = crop_windows(images, positions, torch.where(said_sizes >= 0, said_sizes, measured), layout)
    features, logits = shipped_digit_reader(str(images.device)).extract(frames)
    return features, logits.float().log_softmax(dim=1), measured


def two_digit_scores(
    images: Tensor, batch: dict[str, Tensor], layout: TwoDigitLayout
) -> tuple[dict[str, Tensor], Tensor]:
    """Per caption, whether ``images`` show what ``batch`` says, and the (2N, 64) classifier
    features of the two windows (for FID):

    * ``first_digit``, ``second_digit``: the classifier reads the digit in the half where the
      relation puts it;
    * ``both_digits``: both at once — the digits and the relation read as stated;
    * ``relation``: the stated order is likelier than the swapped one,
      ``log p(first | its half) + log p(second | its half) > log p(second | first's half) +
      log p(first | second's half)``; NaN where both digits are the same (no order to read);
    * ``size``: (N, 2) the size read in each digit's half, NaN where the caption leaves it out.
    """
    images = images.float()
    digits, sizes = batch["digits"], batch["sizes"]
    count = len(images)
    positions = torch.cat(slots(batch["relation"]))
    features, log_p, measured = read_slots(images.repeat(2, 1, 1, 1), positions, sizes.T.flatten(), layout)
    first_p, second_p = log_p[:count], log_p[count:]
    first, second = digits[:, 0:1], digits[:, 1:2]
    stated_order = first_p.gather(1, first) + second_p.gather(1, second)
    swapped = first_p.gather(1, second) + second_p.gather(1, first)
    read_first, read_second = first_p.argmax(dim=1), second_p.argmax(dim=1)
    scores = {
        "both_digits": ((read_first == digits[:, 0]) & (read_second == digits[:, 1])).float(),
        "first_digit": (read_first == digits[:, 0]).float(),
        "second_digit": (read_second == digits[:, 1]).float(),
        "relation": stated((stated_order > swapped).float()[:, 0], torch.where(first == second, -1, 1)[:, 0]),
        "size": stated((sizes == measured.view(2, count).T).float(), sizes),
    }
    return scores, features
