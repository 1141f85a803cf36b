"""Video generation with MoCoGAN (Tulyakov et al. 2018): a clip generator against an image
discriminator D_I on single frames and a video discriminator D_V on whole clips.

One iteration (``global_step`` += 1) follows the authors' trainer: one batch of fake clips
from G (drawn once and shared by both phases), then

* **D main** — D_I on ``frames_per_clip`` frames of every real and fake clip, D_V on the
  clips; both losses summed, one step of the discriminator role (both networks; Adam is
  per parameter, so one optimizer equals the paper's two);
* **G main** — G against both: ``image_weight`` · L_G(D_I(frames)) + ``video_weight`` · L_G(D_V(clip)).

Optionally a third discriminator, D_P (``pair_discriminator``), judges *pairs* of frames of
one clip stacked on the channel axis (2C channels): real pairs show one digit twice, pairs of a
fake clip whose content drifts do not, and pairs of two *different* real clips are scored as
fake too (the matching-aware trick of Reed et al. 2016, GAN-INT-CLS), so D_P learns "same
content?" rather than a second D_I's "real frame?". Off by default.

D_I sees frames drawn at random from each clip. MoCoGAN takes one frame per clip (its image
batch has its own size); ``frames_per_clip`` (default 4) takes several frames of the same
clips instead: the fake frames already cost a G forward, D_I is cheap, and several frames
per clip give the image loss more samples without a second generator batch.

Batches are ``{"video": (B, C, T, H, W)}`` in [-1, 1] (``"label"`` is not used). Clip scores
are whole-set numbers: ``metrics`` (:class:`~gan_lightning.metrics.ClipScores`: per-frame FID,
motion) gather held-out clips and draw as many from :meth:`VideoGAN.sample` at the end of each
validation.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from gan_lightning.metrics.base import TaskMetrics
from gan_lightning.networks.dcgan import DCGANDiscriminator
from gan_lightning.networks.video import MoCoGANGenerator, VideoDiscriminator
from gan_lightning.objectives import AdversarialObjective, NonSaturatingLoss
from gan_lightning.tasks.base import AdversarialTask
from gan_lightning.training.looking import looking_only
from gan_lightning.training.optimization import WITHOUT_EMA, Optimization

Batch = Mapping[str, Tensor]


def sample_frames(clips: Tensor, count: int) -> Tensor:
    """(B·count, C, H, W): ``count`` distinct frames of each clip (B, C, T, H, W), chosen at
    random (the training RNG: the draws are part of the training trajectory)."""
    batch, frames = clips.shape[0], clips.shape[2]
    chosen = torch.rand(batch, frames, device=clips.device).argsort(dim=1)[:, :count]  # (B, count)
    index = chosen.view(batch, 1, count, 1, 1).expand(-1, clips.shape[1], -1, *clips.shape[3:])
    return clips.gather(2, index).transpose(1, 2).flatten(0, 1)


def sample_frame_pairs(clips: Tensor, count: int) -> Tensor:
    """(B, count, 2, C, H, W): ``count`` pairs of distinct frames of each clip (B, C, T, H, W),
    no frame in two pairs (the training RNG, as :func:`sample_frames`)."""
    frames = sample_frames(clips, 2 * count)  # (B·2count, C, H, W), clip by clip
    pairs = frames.view(clips.shape[0], 2, count, *frames.shape[1:])
    return pairs.transpose(1, 2)


def stack_pairs(pairs: Tensor) -> Tensor:
    """(B·count, 2C, H, W): the pairs of :func:`sample_frame_pairs` stacked on channels."""
    return pairs.flatten(2, 3).flatten(0, 1)


def mismatch_pairs(pairs: Tensor) -> Tensor:
    """Pairs whose second frame comes from the next clip of the batch (B ≥ 2): two frames that
    need not share their content, as :func:`sample_frame_pairs` lays them out."""
    return torch.stack([pairs[:, :, 0], pairs[:, :, 1].roll(1, dims=0)], dim=2)


class VideoGAN(AdversarialTask):
    """MoCoGAN-style video GAN (Tulyakov et al. 2018, Eq. 1-2 with the objective of choice).

    Args:
        generator: latent (B, latent_dim) → clips (B, C, T, H, W); must expose ``latent_dim``.
            Default :class:`~gan_lightning.networks.MoCoGANGenerator`.
        image_discriminator: D_I, frames (N, C, H, W) → (N,) logits. Default DCGAN.
        video_discriminator: D_V, clips → (B,) logits. Default :class:`~gan_lightning.networks.VideoDiscriminator`.
        objective: how logits become losses (default non-saturating, Goodfellow et al. 2014).
        frames_per_clip: frames of each clip D_I judges (MoCoGAN: 1).
        image_weight, video_weight: weights of the D_I and D_V terms in both phases.
        pair_discriminator: D_P, pairs of frames of one clip stacked on channels (N, 2C, H, W)
            → (N,) logits, e.g. :class:`~gan_lightning.networks.PairDiscriminator`; None (default): none.
            In the D phase it scores real pairs as real and both fake pairs and pairs of two
            different real clips (mismatched, when the batch holds ≥ 2 clips) as fake.
        pairs_per_clip: pairs of distinct frames of each clip D_P judges (2·pairs ≤ num_frames).
        pair_weight: weight of the D_P term in both phases.
        instance_noise: std of Gaussian noise added to every clip both discriminators see in
            training, real and fake (Sønderby et al. 2016; MoCoGAN's discriminators add
            σ = 0.1 noise before their layers). On Moving MNIST, whose background is exactly
            -1, a D without it tells a tanh generator's frames from real ones by the
            background alone and G never recovers. 0: none.
        num_frames, image_size, channels: sizes of the default networks.
        optimization: per role (D_I and D_V together are the discriminator role) the
            optimizer, schedule and clip norm, default Adam(2e-4, (0.5, 0.999)); a moving average
            of G (half-life in thousands of *clips*) is off by default, samples and metrics use
            it when on (:class:`~gan_lightning.training.Optimization`).
        num_fixed: clips drawn from the fixed latent for sample GIFs and strips.
        sample_seed: seed of the fixed latent.
        metrics: what scores generated clips against held-out ones at each validation
            (:class:`~gan_lightning.metrics.ClipScores`, or any
            :class:`~gan_lightning.metrics.TaskMetrics`; a list for several), logged as ``val/<name>``.
        compile: the training phases through ``torch.compile``
            (:class:`~gan_lightning.tasks.base.AdversarialTask`; off by default).
    """

    #: ``gan-lightning sample`` writes GIFs for this task (SampleGrid sees 5-D samples).
    makes_clips = True

    def __init__(
        self,
        generator: nn.Module | None = None,
        image_discriminator: nn.Module | None = None,
        video_discriminator: nn.Module | None = None,
        objective: AdversarialObjective | None = None,
        frames_per_clip: int = 4,
        image_weight: float = 1.0,
        video_weight: float = 1.0,
        pair_discriminator: nn.Module | None = None,
        pairs_per_clip: int = 2,
        pair_weight: float = 1.0,
        instance_noise: float = 0.0,
        num_frames: int = 16,
        image_size: int = 32,
        channels: int = 1,
        optimization: Optimization = WITHOUT_EMA,
        num_fixed: int = 16,
        sample_seed: int = 0,
        metrics: TaskMetrics | list[TaskMetrics] | None = None,
        compile: bool | str = False,
    ) -> None:
        super().__init__(optimization, metrics, compile)
        if frames_per_clip < 1 or frames_per_clip > num_frames:
            raise ValueError(f"frames_per_clip must be between 1 and num_frames={num_frames}, got {frames_per_clip}.")
        if image_weight < 0 or video_weight < 0 or image_weight + video_weight == 0:
            raise ValueError(
                f"image_weight and video_weight must be >= 0, not both 0; got {image_weight}, {video_weight}."
            )
        if pairs_per_clip < 1 or 2 * pairs_per_clip > num_frames:
            raise ValueError(
                f"pairs_per_clip must be between 1 and num_frames/2={num_frames // 2}, got {pairs_per_clip}."
            )
        if pair_weight < 0:
            raise ValueError(f"pair_weight must be >= 0, got {pair_weight}.")
        if instance_noise < 0:
            raise ValueError(f"instance_noise must be >= 0 (a standard deviation), got {instance_noise}.")
        if num_fixed < 1:
            raise ValueError(f"num_fixed must be >= 1, got {num_fixed}.")
        self.generator = generator or MoCoGANGenerator(num_frames=num_frames, image_size=image_size, channels=channels)
        if not hasattr(self.generator, "latent_dim"):
            raise ValueError(f"The generator ({type(self.generator).__name__}) must expose `latent_dim`.")
        self.image_discriminator = image_discriminator or DCGANDiscriminator(image_size, channels)
        self.video_discriminator = video_discriminator or VideoDiscriminator(num_frames, image_size, channels)
        self.pair_discriminator = pair_discriminator
        self.pairs_per_clip, self.pair_weight = pairs_per_clip, pair_weight
        self.keep_average("generator")
        self.objective = objective if objective is not None else NonSaturatingLoss()
        self.frames_per_clip = frames_per_clip
        self.image_weight, self.video_weight = image_weight, video_weight
        self.instance_noise = instance_noise
        self.sample_seed = sample_seed
        self.latent_dim: int = self.generator.latent_dim
        seeded = torch.Generator().manual_seed(sample_seed)
        self.register_buffer("fixed_latent", torch.randn(num_fixed, self.latent_dim, generator=seeded))

    # ------------------------------------------------------------------ declarations
    def role_modules(self) -> dict[str, list[nn.Module]]:
        discriminators = [self.image_discriminator, self.video_discriminator]
        if self.pair_discriminator is not None:
            discriminators.append(self.pair_discriminator)
        return {"generator": [self.generator], "discriminator": discriminators}

    # ------------------------------------------------------------------ sampling
    def sample_latent(self, num: int, generator: torch.Generator | None = None) -> Tensor:
        """Standard normal latents (content, h(0) and motion noise) on this module's device."""
        if generator is None:
            return torch.randn(num, self.latent_dim, device=self.device)
        return torch.randn(num, self.latent_dim, generator=generator, device=generator.device).to(self.device)

    def generate(self, latent: Tensor, use_ema: bool = True, seed: int | None = None) -> Tensor:
        """Clips from given latents in eval mode, without gradients, without touching the
        training RNG (a fork, seeded with ``seed`` when given)."""
        network = self.sampling_generator if use_ema else self.generator
        with looking_only(network):
            if seed is not None:
                torch.manual_seed(seed)
            return network(latent.to(self.device))

    def sample(self, num: int, use_ema: bool = True, generator: torch.Generator | None = None) -> Tensor:
        """``num`` fresh clips (B, C, T, H, W); seeded by ``generator`` if given."""
        return self.generate(self.sample_latent(num, generator), use_ema=use_ema)

    def sample_fixed(self) -> Tensor:
        """Clips from the fixed latent batch: the same clips' evolution across a run."""
        return self.generate(self.fixed_latent, seed=self.sample_seed)

    def forward(self, latent: Tensor) -> Tensor:
        return self.sampling_generator(latent)

    # ------------------------------------------------------------------ building blocks of the phases
    def scores(self, clips: Tensor, mismatched: bool = False) -> tuple[Tensor, Tensor, Tensor | None]:
        """(D_I logits on ``frames_per_clip`` random frames of each clip, D_V logits per clip,
        D_P logits on ``pairs_per_clip`` pairs of each clip or None without D_P), with the
        instance noise added to the clips. ``mismatched`` (real clips, D phase) appends D_P's
        logits on pairs across clips after those of the clips' own pairs."""
        if self.instance_noise:
            clips = clips + self.instance_noise * torch.randn_like(clips)
        image = self.image_discriminator(sample_frames(clips, self.frames_per_clip))
        video = self.video_discriminator(clips)
        if self.pair_discriminator is None:
            return image, video, None
        pairs = sample_frame_pairs(clips, self.pairs_per_clip)
        if mismatched and clips.shape[0] > 1:
            pairs = torch.cat([pairs, mismatch_pairs(pairs)])
        return image, video, self.pair_discriminator(stack_pairs(pairs))

    def check_clips(self, fake: Tensor, real: Tensor) -> None:
        if fake.shape[1:] != real.shape[1:]:
            raise ValueError(
                f"The generator makes clips of shape {tuple(fake.shape[1:])} (C, T, H, W) but the data has "
                f"{tuple(real.shape[1:])}: set the networks' num_frames/image_size/channels to the data's."
            )

    # ------------------------------------------------------------------ the phases
    def discriminator_main(self, real: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """D_I and D_V (and D_P) on real against fake (``fake`` detached), weighted and summed."""
        real_image, real_video, real_pair = self.scores(real, mismatched=True)
        fake_image, fake_video, fake_pair = self.scores(fake)
        image_loss = self.objective.discriminator_loss(real_image, fake_image)
        video_loss = self.objective.discriminator_loss(real_video, fake_video)
        loss = self.image_weight * image_loss + self.video_weight * video_loss
        readout = self.objective.readout
        stats = {
            "d_loss": loss.detach(),
            "d_image": image_loss.detach(),
            "d_video": video_loss.detach(),
            "D_I(x)": readout(real_image.detach()).mean(),
            "D_I(G(z))": readout(fake_image.detach()).mean(),
            "D_V(x)": readout(real_video.detach()).mean(),
            "D_V(G(z))": readout(fake_video.detach()).mean(),
        }
        if real_pair is None or fake_pair is None:
            return loss, stats
        own = real.shape[0] * self.pairs_per_clip  # real_pair: own pairs, then mismatched ones
        real_pair, mismatched = real_pair[:own], real_pair[own:]
        pair_loss = self.objective.discriminator_loss(real_pair, torch.cat([fake_pair, mismatched]))
        loss = loss + self.pair_weight * pair_loss
        stats.update(
            {
                "d_loss": loss.detach(),
                "d_pair": pair_loss.detach(),
                "D_P(x)": readout(real_pair.detach()).mean(),
                "D_P(G(z))": readout(fake_pair.detach()).mean(),
            }
        )
        if mismatched.numel():
            stats["D_P(mismatched)"] = readout(mismatched.detach()).mean()
        return loss, stats

    def generator_main(self, real: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """G against both (all three) discriminators (real scores only for objectives that need them)."""
        fake_image, fake_video, fake_pair = self.scores(fake)
        real_image, real_video, real_pair = (
            self.scores(real) if self.objective.generator_needs_real else (None, None, None)
        )
        image_loss = self.objective.generator_loss(fake_image, real_image)
        video_loss = self.objective.generator_loss(fake_video, real_video)
        loss = self.image_weight * image_loss + self.video_weight * video_loss
        stats = {"g_image": image_loss.detach(), "g_video": video_loss.detach()}
        if fake_pair is not None:
            pair_loss = self.objective.generator_loss(fake_pair, real_pair)
            loss = loss + self.pair_weight * pair_loss
            stats["g_pair"] = pair_loss.detach()
        return loss, {"g_loss": loss.detach(), **stats}

    # ------------------------------------------------------------------ one iteration
    def training_step(self, batch: Batch, batch_idx: int) -> dict[str, Tensor]:
        real = batch["video"]
        fake = self.generator(self.sample_latent(real.shape[0]))  # one G forward for both phases (MoCoGAN's trainer)
        self.check_clips(fake, real)

        with self.training_role("discriminator"):
            loss, d_stats = self.discriminator_main(real, fake.detach())
            self.step("discriminator", loss)

        with self.training_role("generator"):
            loss, g_stats = self.generator_main(real, fake)
            self.step("generator", loss)

        stats = {**d_stats, **g_stats}
        self.end_iteration(real.shape[0], stats)
        self.log_progress(real.shape[0], d_loss=stats["d_loss"], g_loss=stats["g_loss"])
        return stats
