"""torchvision's classic GAN data sets as datamodules: MNIST, Fashion-MNIST, CIFAR-10, CelebA.

They read torchvision's on-disk layout under ``root`` and download into it only when
``download: true``. Missing or unreachable data stops the run in ``prepare_data``/``setup``
with a :class:`~gan_lightning.data.image_data.DataNotFoundError` that names the folder and
the fix, before any training starts.

The held-out split (MNIST's test set, CelebA's ``valid`` partition) is the validation set.
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset
from torchvision import datasets

from gan_lightning.data.image_data import DataNotFoundError, ImageDataModule, UInt8ImageDataset, prepare_uint8_images


class TorchvisionDataModule(ImageDataModule):
    """A torchvision data set with a train and a held-out split.

    Subclasses name the data set (``title``), the files torchvision expects
    (:meth:`expected_files`) and how to build one split (:meth:`build`).

    Args:
        root: the folder torchvision reads (and downloads into), e.g. ``data``.
        download: fetch the data into ``root`` if it is not there (needs network).
        in_memory: for data sets stored as arrays (MNIST, Fashion-MNIST, CIFAR-10), resize
            and convert every image once at start-up into a uint8 tensor, instead of per
            item through PIL in every epoch (~10x faster batches; CIFAR-10 takes 150 MB).
        Others: see :class:`~gan_lightning.data.image_data.ImageDataModule`.
    """

    title: str = ""

    def __init__(
        self,
        root: str | Path = "data",
        download: bool = False,
        batch_size: int = 64,
        image_size: int = 32,
        channels: int = 3,
        center_crop: int | None = None,
        val_size: int | None = None,
        num_workers: int = 0,
        seed: int = 0,
        in_memory: bool = True,
    ) -> None:
        super().__init__(
            batch_size=batch_size,
            image_size=image_size,
            channels=channels,
            center_crop=center_crop,
            val_size=val_size,
            num_workers=num_workers,
            seed=seed,
        )
        self.root = Path(root).expanduser()
        self.download = download
        self.in_memory = in_memory

    @abstractmethod
    def expected_files(self) -> list[Path]:
        """The files (or folders) torchvision needs under ``root``."""

    @abstractmethod
    def build(self, train: bool, download: bool) -> Dataset:
        """One split as a torchvision dataset with ``self.transform``."""

    def in_memory_split(self, images: Tensor, labels: Tensor) -> Dataset:
        """One split from its raw uint8 (N, C, H, W) images, prepared once."""
        prepared = prepare_uint8_images(images, self.image_size, self.channels, self.center_crop)
        return UInt8ImageDataset(prepared, torch.as_tensor(labels, dtype=torch.long))

    def missing_files(self) -> list[Path]:
        return [path for path in self.expected_files() if not path.exists()]

    def check_present(self) -> None:
        """Raise a :class:`DataNotFoundError` that lists what is missing and how to get it."""
        missing = self.missing_files()
        if not missing:
            return
        shown = ", ".join(str(path) for path in missing[:4]) + (" ..." if len(missing) > 4 else "")
        raise DataNotFoundError(
            f"{self.title} not found under root={str(self.root)!r} (missing: {shown}). "
            f"Set `data.init_args.download: true` to download it (needs network access), "
            f"or set `data.init_args.root` to the folder that already holds it in torchvision's layout."
        )

    def prepare_data(self) -> None:
        """Download on one process per node (Lightning calls this before ``setup``)."""
        if not self.download:
            self.check_present()
            return
        if not self.missing_files():
            return
        try:
            for train in (True, False):
                self.build(train, download=True)
        except Exception as error:  # URLError, RuntimeError, OSError ... all mean "could not fetch"
            reason = " ".join(str(error).split())  # torchvision's message spans lines, one per mirror
            raise DataNotFoundError(
                f"Could not download {self.title} into root={str(self.root)!r}: {type(error).__name__}: {reason}. "
                "Without network access, fetch it on a machine that has it (same command with download: true), "
                "copy the folder here and run with `data.init_args.download: false`."
            ) from None

    def make_datasets(self) -> tuple[Dataset, Dataset]:
        self.check_present()
        try:
            return self.build(True, download=False), self.build(False, download=False)
        except RuntimeError as error:
            raise DataNotFoundError(
                f"{self.title} under root={str(self.root)!r} could not be read: {error}. The files are there but "
                "damaged or incomplete: delete them and download again (`data.init_args.download: true`)."
            ) from None


class MNISTDataModule(TorchvisionDataModule):
    """MNIST (LeCun et al. 1998): 60k/10k handwritten digits, 28×28 grey, 10 classes.

    Layout: ``<root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte``.
    """

    title = "MNIST"
    num_classes = 10
    dataset_class: Any = datasets.MNIST

    def __init__(
        self,
        root: str | Path = "data",
        download: bool = False,
        batch_size: int = 64,
        image_size: int = 28,
        channels: int = 1,
        center_crop: int | None = None,
        val_size: int | None = None,
        num_workers: int = 0,
        seed: int = 0,
        in_memory: bool = True,
    ) -> None:
        super().__init__(
            root, download, batch_size, image_size, channels, center_crop, val_size, num_workers, seed, in_memory
        )

    def expected_files(self) -> list[Path]:
        raw = self.root / self.dataset_class.__name__ / "raw"
        return [
            raw / f"{split}-{kind}"
            for split in ("train", "t10k")
            for kind in ("images-idx3-ubyte", "labels-idx1-ubyte")
        ]

    def build(self, train: bool, download: bool) -> Dataset:
        if self.in_memory and not download:
            raw = self.dataset_class(str(self.root), train=train)
            return self.in_memory_split(raw.data.unsqueeze(1), raw.targets)
        return self.dataset_class(str(self.root), train=train, transform=self.transform, download=download)


class FashionMNISTDataModule(MNISTDataModule):
    """Fashion-MNIST (Xiao et al. 2017): 60k/10k clothing images, 28×28 grey, 10 classes.

    Layout: ``<root>/FashionMNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte``.
    """

    title = "Fashion-MNIST"
    dataset_class = datasets.FashionMNIST


class CIFAR10DataModule(TorchvisionDataModule):
    """CIFAR-10 (Krizhevsky 2009): 50k/10k colour images, 32×32, 10 classes.

    Layout: ``<root>/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}``
    (the extracted ``cifar-10-python.tar.gz``).
    """

    title = "CIFAR-10"
    num_classes = 10

    def expected_files(self) -> list[Path]:
        folder = self.root / datasets.CIFAR10.base_folder
        names = [name for name, _ in datasets.CIFAR10.train_list + datasets.CIFAR10.test_list]
        return [folder / name for name in [*names, datasets.CIFAR10.meta["filename"]]]

    def build(self, train: bool, download: bool) -> Dataset:
        if self.in_memory and not download:
            raw = datasets.CIFAR10(str(self.root), train=train)
            return self.in_memory_split(torch.from_numpy(raw.data).permute(0, 3, 1, 2).contiguous(), raw.targets)
        return datasets.CIFAR10(str(self.root), train=train, transform=self.transform, download=download)


class _CelebAWithLabels(Dataset):
    """CelebA items as ``(image, label)``: one binary attribute, or 0 when unlabelled."""

    def __init__(self, dataset: datasets.CelebA, attribute: str | None) -> None:
        self.dataset = dataset
        self.column: int | None = None
        if attribute is not None:
            if attribute not in dataset.attr_names:
                raise ValueError(
                    f"CelebA has no attribute {attribute!r}; choose one of {', '.join(a for a in dataset.attr_names if a)}."
                )
            self.column = dataset.attr_names.index(attribute)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        image, attributes = self.dataset[index]
        return image, 0 if self.column is None else int(attributes[self.column])


class CelebADataModule(TorchvisionDataModule):
    """CelebA (Liu et al. 2015), aligned faces (178×218), resized and centre-cropped to
    64×64 as in DCGAN (Radford et al. 2016). ``center_crop`` (e.g. 140 or 108) first cuts
    the face region at full resolution, a common tighter variant.

    Labels are 0, or one binary attribute (``label_attribute: Smiling``) for a
    conditional GAN with ``num_classes: 2``. Validation uses the ``valid`` partition.

    Layout: ``<root>/celeba/img_align_celeba/*.jpg`` plus ``list_eval_partition.txt``,
    ``identity_CelebA.txt``, ``list_bbox_celeba.txt``, ``list_landmarks_align_celeba.txt``
    and ``list_attr_celeba.txt``. The download comes from Google Drive (needs ``gdown``)
    and often hits its quota: downloading by hand is the reliable route.
    """

    title = "CelebA"

    def __init__(
        self,
        root: str | Path = "data",
        download: bool = False,
        batch_size: int = 64,
        image_size: int = 64,
        channels: int = 3,
        center_crop: int | None = None,
        val_size: int | None = None,
        num_workers: int = 0,
        seed: int = 0,
        label_attribute: str | None = None,
    ) -> None:
        super().__init__(root, download, batch_size, image_size, channels, center_crop, val_size, num_workers, seed)
        self.in_memory = False  # JPEG files: always read per item
        self.label_attribute = label_attribute
        self.num_classes = 2 if label_attribute else 0

    def expected_files(self) -> list[Path]:
        folder = self.root / datasets.CelebA.base_folder
        names = [name for _, _, name in datasets.CelebA.file_list if not name.endswith(".zip")]
        return [folder / "img_align_celeba", *(folder / name for name in names)]

    def build(self, train: bool, download: bool) -> Dataset:
        split = "train" if train else "valid"
        dataset = datasets.CelebA(
            str(self.root), split=split, target_type="attr", transform=self.transform, download=download
        )
        return dataset if download else _CelebAWithLabels(dataset, self.label_attribute)
