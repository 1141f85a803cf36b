"""Everything measured on generated samples at validation, in one module the GAN carries.

Why a submodule of the GAN (``GAN(metrics=GenerativeMetrics(...))``) rather than a callback:
its state (cached reference features, torchmetrics states) moves to the module's device
with the module, it is configured next to the model it evaluates (``model.init_args.metrics``
in YAML), and ``lightning validate --ckpt_path`` runs it with no extra wiring. It holds no
weights in the checkpoint: the feature network is kept outside the module's parameters
(moved to the right device on first use), so a checkpoint trained with one feature network
loads into a model configured with another, or with none.

Protocol (see docs/metrics.md):

* *reference*: the real images the validation loader yields (the held-out split), featurised
  once at the first validation and cached (``reset_real_features=False``).
* *fakes*: ``num_samples`` images from the module's sampling generator (the EMA when there is
  one), from noise seeded by ``seed`` + rank, so every validation scores the same latents.
* *floor*: the same metrics with ``num_samples`` **training** images in place of the fakes
  (train vs held-out): the best a generator that reproduced the data could score on this
  protocol. Computed once, logged as ``val/<metric>_floor``.

DDP: every process featurises its share of the reference (the distributed sampler's), of the
fakes and of the floor; torchmetrics sums/concatenates the states in ``compute()``, which every
rank calls, so all ranks get the number one process gets on the same samples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
import torch.distributed as dist
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor, nn
from torchmetrics import Metric
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.utilities import dim_zero_cat

from gan_lightning.batch import split_batch
from gan_lightning.metrics import functional as MF
from gan_lightning.metrics.base import TaskMetrics
from gan_lightning.metrics.features import FeatureNetwork, build_feature_network

SampleFunction = Callable[[int, torch.Generator], Tensor]


def rank_and_world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class _Precomputed(nn.Module):
    """Features are extracted once per batch and shared by all metrics: torchmetrics' FID
    gets them through this identity 'network'."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, features: Tensor) -> Tensor:
        return features


class FeatureSet(Metric):
    """Features, class probabilities and predicted-class counts of one sample set, gathered
    across processes. Raw features are kept only when a metric needs them (KID, P/R)."""

    full_state_update = False

    def __init__(self, num_classes: int, keep_features: bool, keep_probabilities: bool) -> None:
        super().__init__()
        self.keep_features = keep_features
        self.keep_probabilities = keep_probabilities
        self.add_state("count", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("features", [], dist_reduce_fx="cat")
        self.add_state("probabilities", [], dist_reduce_fx="cat")
        self.add_state("class_counts", torch.zeros(max(num_classes, 1), dtype=torch.long), dist_reduce_fx="sum")

    def update(self, features: Tensor, logits: Tensor | None) -> None:
        self.count += features.shape[0]
        if self.keep_features:
            self.features.append(features.float())
        if logits is not None:
            if self.keep_probabilities:
                self.probabilities.append(logits.float().softmax(dim=1))
            self.class_counts += torch.bincount(logits.argmax(dim=1), minlength=self.class_counts.numel())

    def compute(self) -> dict[str, Tensor]:
        """The gathered set, rows in a canonical order (see :func:`canonical_order`)."""
        features, probabilities = _concatenated(self.features), _concatenated(self.probabilities)
        key = features if features.numel() else probabilities
        if key.numel():
            order = canonical_order(key)
            features = features[order] if features.numel() else features
            probabilities = probabilities[order] if probabilities.numel() else probabilities
        return {
            "count": self.count,
            "features": features,
            "probabilities": probabilities,
            "class_counts": self.class_counts,
        }


def _concatenated(state: list[Tensor] | Tensor) -> Tensor:
    """A ``cat`` state: a list of batches on one process, one tensor after a DDP sync."""
    if isinstance(state, Tensor):
        return state
    return dim_zero_cat(state) if state else torch.empty(0)


def canonical_order(rows: Tensor, seed: int = 0) -> Tensor:
    """A row order that depends only on the rows' values, then shuffled by a fixed seed.

    Processes gather their rows in rank order, so the same samples arrive in a different
    order on 1 and on N processes; KID's subsets and IS's splits depend on the order.
    Sorting by a fixed random projection and then applying a fixed permutation makes those
    numbers independent of the number of processes, while splits stay random in content.
    """
    generator = torch.Generator().manual_seed(seed)
    direction = torch.randn(rows.shape[1], generator=generator, dtype=torch.float64).to(rows.device)
    by_value = torch.argsort(rows.double() @ direction, stable=True)
    return by_value[torch.randperm(rows.shape[0], generator=generator).to(rows.device)]


class GenerativeMetrics(TaskMetrics):
    """FID (+ KID, IS, precision/recall, class coverage) of generated samples, with floors.

    Args:
        features: a name of :data:`~gan_lightning.metrics.features.FEATURE_NETWORKS` --
            ``"mnist"`` (shipped digit classifier, offline; 64-d), ``"stacked_mnist"``,
            ``"inception"`` (FID InceptionV3, 2048-d; needs ``weights_path`` or torch hub's
            cache) -- or any ``nn.Module`` by ``class_path`` mapping images in [-1, 1] to features.
        weights_path: weights file for the ``"mnist"``/``"inception"`` networks.
        num_samples: generated samples per evaluation (split over DDP ranks); also the
            number of training images in the floor.
        batch_size: images per generator/feature-network call.
        kid: also compute KID (Bińkowski et al. 2018) with ``kid_subsets`` subsets of
            ``kid_subset_size``.
        inception_score: also compute IS (Salimans et al. 2016) from the classifier head.
        precision_recall: also compute improved precision/recall (Kynkäänniemi et al. 2019)
            with ``k`` nearest neighbours.
        mode_coverage: classes covered and KL(generated ‖ data class histogram); needs a
            feature network with a classifier head (``mnist``).
        mode_min_count: generated samples a class needs to count as covered (1 as in the
            Stacked-MNIST protocol; raise it so a few misclassified samples of a collapsed
            generator do not count as modes).
        mode_reference: the histogram ``class_kl`` compares with: ``data`` (the held-out
            images' classes) or ``uniform`` (every class equally likely: the Stacked MNIST
            protocol, whose 1,000 modes a few thousand held-out images cannot all show).
        floor: compute every metric once with training images in place of fakes.
        seed: seeds the evaluation noise (plus the rank) and KID's subsets.
    """

    def __init__(
        self,
        features: str | nn.Module = "mnist",
        weights_path: str | None = None,
        num_samples: int = 1000,
        batch_size: int = 250,
        kid: bool = False,
        kid_subsets: int = 100,
        kid_subset_size: int = 1000,
        inception_score: bool = False,
        precision_recall: bool = False,
        k: int = 3,
        mode_coverage: bool = True,
        mode_min_count: int = 1,
        mode_reference: str = "data",
        floor: bool = True,
        seed: int = 0,
    ) -> None:
        super().__init__()
        for name, value in (
            ("num_samples", num_samples),
            ("batch_size", batch_size),
            ("k", k),
            ("mode_min_count", mode_min_count),
            ("kid_subsets", kid_subsets),
            ("kid_subset_size", kid_subset_size),
        ):
            if value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value}.")
        if num_samples < 2:
            raise ValueError(f"num_samples must be at least 2 for a covariance (FID), got {num_samples}.")
        network = build_feature_network(features, weights_path)
        if (mode_coverage or inception_score) and network.num_classes == 0:
            raise ValueError(
                f"mode_coverage / inception_score need a feature network with a classifier head, and "
                f"{type(network).__name__} has none: set them to false or use features: mnist."
            )
        # Kept out of the registered submodules on purpose: no weights in checkpoints (see module doc).
        self.__dict__["network"] = network
        self.feature_name = network.name if network.name != "custom" else type(features).__name__
        self.num_samples = num_samples
        self.batch_size = batch_size
        self.kid = kid
        self.kid_subsets = kid_subsets
        self.kid_subset_size = kid_subset_size
        self.inception_score = inception_score
        self.precision_recall = precision_recall
        self.k = k
        self.mode_coverage = mode_coverage
        self.mode_min_count = mode_min_count
        if mode_reference not in ("data", "uniform"):
            raise ValueError(f"mode_reference must be 'data' or 'uniform', got {mode_reference!r}.")
        self.mode_reference = mode_reference
        self.floor = floor
        self.seed = seed
        self.sets = nn.ModuleDict()
        self.frechet = nn.ModuleDict()
        self.reference_ready = False
        self.floor_ready = False

    # ------------------------------------------------------------------ features
    @torch.no_grad()
    def extract(self, images: Tensor) -> tuple[Tensor, Tensor | None]:
        """Features (and logits) in fp32, whatever the module's precision or autocast."""
        network: FeatureNetwork = self.network
        parameter = next(network.parameters(), None)
        if parameter is not None and parameter.device != images.device:
            network.to(images.device)
        with torch.autocast(images.device.type, enabled=False):
            features, logits = network.extract(images.float())
        return features.float(), None if logits is None else logits.float()

    def _states(self, features: Tensor, logits: Tensor | None) -> None:
        """Create the metric states on first use, once the feature size and device are known."""
        if len(self.sets):
            return
        num_classes = logits.shape[1] if logits is not None else 0
        keep_features = self.kid or self.precision_recall
        for name in ("reference", "fake", "floor"):
            self.sets[name] = FeatureSet(num_classes, keep_features, self.inception_score).to(features.device)
        for name in ("fake", "floor"):
            self.frechet[name] = FrechetInceptionDistance(
                feature=_Precomputed(features.shape[1]), reset_real_features=False
            ).to(features.device)

    def _update(self, role: str, images: Tensor) -> None:
        features, logits = self.extract(images)
        self._states(features, logits)
        self.sets[role].update(features, logits)
        if role == "reference":
            for fid in self.frechet.values():
                fid.update(features, real=True)
        else:
            self.frechet[role].update(features, real=False)

    def update_reference(self, images: Tensor) -> None:
        """Add real held-out images to the reference set."""
        self._update("reference", images)

    def update_fake(self, images: Tensor) -> None:
        self._update("fake", images)

    def update_floor(self, images: Tensor) -> None:
        """Add real training images that stand in for fakes in the floor."""
        self._update("floor", images)

    # ------------------------------------------------------------------ sample sets
    def _share(self, total: int) -> int:
        rank, world = rank_and_world()
        share = total // world + (1 if rank < total % world else 0)
        if share == 0:
            raise ValueError(f"num_samples={total} is fewer than the {world} processes: raise num_samples.")
        return share

    def update_fakes_from(self, sample: SampleFunction) -> None:
        """Draw this rank's share of ``num_samples`` fakes with ``sample(n, generator)``."""
        rank, _ = rank_and_world()
        generator = torch.Generator().manual_seed(self.seed + rank)
        remaining = self._share(self.num_samples)
        while remaining > 0:
            count = min(self.batch_size, remaining)
            self.update_fake(sample(count, generator))
            remaining -= count

    def update_floor_from(self, batches: Iterable[Any]) -> int:
        """Take ``num_samples`` training images from ``batches`` (the same sequence on every
        rank; batch i is featurised by rank i mod world). Returns how many were taken."""
        rank, world = rank_and_world()
        taken = 0
        for index, batch in enumerate(batches):
            images = split_batch(batch)[0][: self.num_samples - taken]
            if index % world == rank:
                self.update_floor(images)
            taken += images.shape[0]
            if taken >= self.num_samples:
                break
        if taken < self.num_samples:
            rank_zero_warn(f"The floor uses {taken} training images, fewer than num_samples={self.num_samples}.")
        return taken

    # ------------------------------------------------------------------ results
    def _check_ready(self, role: str) -> None:
        if not len(self.sets) or int(self.sets["reference"].count.item()) == 0:
            raise RuntimeError(
                "No reference images were given: validation must yield real images (a val_dataloader) "
                "before metrics can be computed."
            )
        if role == "fake" and not self.sets["fake"].update_called:
            raise RuntimeError("No generated images were given: call update_fake / update_fakes_from first.")

    def _compute(self, role: str) -> dict[str, float]:
        """All enabled metrics of the ``role`` set ("fake" or "floor") against the reference.
        Collective under DDP: every rank must call it."""
        self._check_ready(role)
        reference = self.sets["reference"].compute()
        other = self.sets[role].compute()
        if int(reference["count"]) < 2 or int(other["count"]) < 2:
            raise RuntimeError(
                f"FID needs at least 2 images per set, got {int(reference['count'])} reference and "
                f"{int(other['count'])} {role} images: raise num_samples / the validation set size."
            )
        results = {"fid": self.frechet[role].compute().item()}
        if self.kid:
            mean, std = MF.kernel_inception_distance(
                reference["features"], other["features"], self.kid_subsets, self.kid_subset_size, self.seed
            )
            results.update(kid=mean, kid_std=std)
        if self.precision_recall:
            precision, recall = MF.precision_recall(reference["features"], other["features"], self.k)
            results.update(precision=precision, recall=recall)
        if self.inception_score:
            mean, std = MF.inception_score(other["probabilities"], splits=min(10, int(other["count"])))
            results.update(inception_score=mean, inception_score_std=std)
        if self.mode_coverage:
            real_counts = reference["class_counts"]
            if self.mode_reference == "uniform":
                real_counts = torch.ones_like(real_counts)
            covered, kl = MF.class_coverage(other["class_counts"], real_counts, self.mode_min_count)
            results.update(modes_covered=float(covered), class_kl=kl)
        return results

    def fake_scores(self) -> dict[str, float]:
        """Metrics of the generated set (collective under DDP)."""
        return self._compute("fake")

    def floor_scores(self) -> dict[str, float]:
        """Metrics of training images vs the reference, keys suffixed ``_floor``."""
        return {f"{key}_floor": value for key, value in self._compute("floor").items()}

    def counts(self) -> dict[str, int]:
        """Images in each set, summed over processes (collective under DDP)."""
        return {role: int(metric.compute()["count"]) for role, metric in self.sets.items() if metric.update_called}

    def reset_fakes(self) -> None:
        """Forget the generated set; the reference (and floor) stay cached."""
        if len(self.sets):
            self.sets["fake"].reset()
            self.frechet["fake"].reset()

    def evaluate(
        self, sample: SampleFunction, reference: Iterable[Any] | None = None, floor: Iterable[Any] | None = None
    ) -> dict[str, float]:
        """One evaluation outside a Trainer: featurise ``reference`` batches (unless cached),
        the floor from ``floor`` batches (once), then ``num_samples`` fakes from ``sample``."""
        if reference is not None and not self.reference_ready:
            for batch in reference:
                self.update_reference(split_batch(batch)[0])
            self.reference_ready = True
        results: dict[str, float] = {}
        if self.floor and floor is not None and not self.floor_ready:
            self.update_floor_from(floor)
            results.update(self.floor_scores())
            self.floor_ready = True
        self.update_fakes_from(sample)
        results.update(self.fake_scores())
        self.reset_fakes()
        return results

    # ------------------------------------------------------------------ the TaskMetrics contract
    def update(self, task: Any, batch: Any, outputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Cache reference features during the first real (not sanity-check) validation."""
        trainer = task.trainer
        if not (trainer.sanity_checking or trainer.testing or self.reference_ready):
            self.update_reference(split_batch(batch)[0])
        return {}

    def compute(self, task: Any) -> dict[str, float]:
        """Metrics of ``task.sample`` (and, the first time, the floor) at each validation;
        nothing at a sanity check or a test. Collective under DDP."""
        if task.trainer.sanity_checking or task.trainer.testing:
            return {}
        self.reference_ready = True
        floor_batches = None
        if self.floor and not self.floor_ready:
            floor_batches = training_batches(task.trainer)
            if floor_batches is None:
                rank_zero_warn("No training dataloader to draw the floor from: val/*_floor is not logged.")
                self.floor_ready = True
        device = task.device
        cuda_devices = []
        if device.type == "cuda":
            cuda_devices = [device.index if device.index is not None else torch.cuda.current_device()]
        # Metrics must not move the training's random streams, or a resumed run (which draws
        # the floor again) would diverge from an uninterrupted one.
        with torch.random.fork_rng(devices=cuda_devices):
            return self.evaluate(lambda n, generator: task.sample(n, generator=generator), floor=floor_batches)


def training_batches(trainer: Any) -> Iterable[Any] | None:
    """A fresh training loader from the datamodule: never the fit loop's own loader, whose
    iterator (persistent workers) is in use while validation runs."""
    datamodule = getattr(trainer, "datamodule", None)
    if datamodule is None:
        return None
    try:
        return datamodule.train_dataloader()
    except (NotImplementedError, AttributeError, TypeError):
        return None
