# Copyright 2026 The vision_banana_ros authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""Training: `vision_banana train --data DIR --out DIR [--minutes M | --steps S] ...`.

Samples are held in memory at the training resolution. Each step draws a batch, flips half of it left-right
(negating the normals' x), augments it as other cameras would have recorded it (`augment`: zoom with the focal
length following, colour, exposure, grey, blur, noise, JPEG, cut-outs), runs the network on every task the network
answers and sums the decoded-space losses (segmentation weighted toward rare classes). Depth is taught for the
canonical camera (`canonical`): each sample's depth scaled by the canonical focal length over its own. The
learning rate ramps up over the first 2 % of the budget, then follows a cosine over it (minutes or steps, whichever
is given). Checkpoints (weights, optimizer state, progress) are safetensors + JSON in OUT/checkpoint and `--resume`
continues from them; the final weights go to OUT/weights.safetensors.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
import itertools
import json
import math
from pathlib import Path
import sys
import time

import numpy as np
from safetensors.torch import load_file, save_file
import torch
from tqdm import tqdm

from . import augment
from .canonical import CANONICAL_FOCAL, canonical_focal_at, focal_of
from .losses import class_balance_weights, TASK_LOSSES
from .network import deepened, NetworkConfig, parameter_count, VisionBananaNet
from .weights import load_network, save_network, trained_size, TRAINING_KEY
from ..device import autocast, precision_warning


@dataclass
class TrainingSet:
    """N training samples at one resolution, as tensors (on the CPU, or moved to the training device with `to`):
    rgb uint8 N x H x W x 3, labels uint8 N x H x W, depth float16 N x H x W (metres; +inf far, NaN or <= 0 unknown;
    half precision is 0.05 % of the depth, and a set of 17 000 frames at 320x240 fits in 16 GB),
    normals float16 N x H x W x 3 (zero invalid), focal float32 N (fx / width; the canonical one where a sample
    has no intrinsics) and, for a teacher's answers (`distill`), soft uint8 N x H x W x 2K: a teacher's K most
    likely train ids, then their probabilities x 255. `draws`, float32 N, weighs how often each sample is drawn
    (None: equally), so that a data set counted twice is held in memory once.
    """

    rgb: torch.Tensor
    labels: torch.Tensor
    depth: torch.Tensor
    normals: torch.Tensor
    focal: torch.Tensor
    soft: torch.Tensor | None = None
    draws: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.rgb)

    def weigh_listings(self, listings: list[tuple[int, int]]) -> None:
        """Set `draws` for samples loaded in runs of (samples, times listed), in order: a folder or pack listed n
        times is held once and drawn n times as often; all listed once, drawn equally.
        """
        if any(times > 1 for _, times in listings):
            self.draws = torch.cat([torch.full((samples,), float(times)) for samples, times in listings])

    @classmethod
    def from_frames(cls, frames, count: int | None = None, soft_k: int = 0) -> 'TrainingSet':
        """`count` frames (all of them when None) at one resolution, each stored into the set as it arrives, so
        that a generator's frames are never all held as loaded: 6000 frames at 320x240 take 5.5 GB here, where a
        list of them and its stacked copy ran out of this machine's 24 GB. `soft_k` > 0 keeps soft targets: a
        frame's `soft` (H x W x 2 soft_k), or its labels with probability 1 where it has none (exact ground truth).
        """
        if count is None:
            frames = list(frames)
            count = len(frames)
        data, filled = None, 0
        for i, frame in enumerate(itertools.islice(frames, count)):
            if data is None:
                height, width = frame.rgb.shape[:2]
                data = cls(rgb=torch.empty((count, height, width, 3), dtype=torch.uint8),
                           labels=torch.empty((count, height, width), dtype=torch.uint8),
                           depth=torch.empty((count, height, width), dtype=torch.float16),
                           normals=torch.empty((count, height, width, 3), dtype=torch.float16),
                           focal=torch.empty(count, dtype=torch.float32),
                           soft=torch.zeros((count, height, width, 2 * soft_k), dtype=torch.uint8) if soft_k else None)
            if frame.rgb.shape != data.rgb.shape[1:]:
                raise ValueError(f'training samples must share one resolution, got {data.rgb.shape[2]}x'
                                 f'{data.rgb.shape[1]} and {frame.rgb.shape[1]}x{frame.rgb.shape[0]}')
            data.rgb[i].numpy()[:] = frame.rgb
            data.labels[i].numpy()[:] = frame.labels
            data.depth[i].numpy()[:] = frame.depth
            data.normals[i].numpy()[:] = np.nan_to_num(frame.normals)
            intrinsics = getattr(frame, 'intrinsics', None)   # optional, as in the data set format
            data.focal[i] = focal_of(intrinsics['fx'], width) if intrinsics else CANONICAL_FOCAL
            if soft_k:
                soft = getattr(frame, 'soft', None)
                if soft is None:
                    data.soft[i, ..., 0].numpy()[:] = frame.labels
                    data.soft[i, ..., soft_k] = 255
                else:
                    data.soft[i].numpy()[:] = soft
            filled = i + 1
        if not filled:
            raise ValueError('no training samples')
        if filled < count:
            raise ValueError(f'expected {count} training samples, got {filled}')
        return data

    def to(self, device: torch.device) -> 'TrainingSet':
        """Keep the whole set on the training device, so that batches never wait for the host."""
        return TrainingSet(*(None if t is None else t.to(device)
                             for t in (self.rgb, self.labels, self.depth, self.normals, self.focal, self.soft,
                                       self.draws)))

    def batch(self, size: int, generator: torch.Generator, device: torch.device,
              crop: tuple[int, int] | None = None, augmented: bool = True) -> dict[str, torch.Tensor]:
        """`size` random samples, or random crop = (W, H) windows of them, half of them flipped left-right (normals'
        x negated), augmented (`augment`: zoom, photometric, cut-outs) or only brightness/contrast/colour jittered,
        on `device`, with each sample's focal length in pixels ('focal'). Randomness comes from `generator` (on the
        set's device), so that drawing a batch never waits for the GPU.

        A window is what a camera with the same focal length in pixels and a smaller sensor would see, so its depth
        and normals stay right; it costs less per step than the whole frame.
        """
        on_set = generator.device

        def random(low, high, *shape):
            return torch.rand(*shape, generator=generator, device=on_set).to(device) * (high - low) + low
        if self.draws is None:
            i = torch.randint(len(self), (size,), generator=generator, device=on_set)
        else:
            i = torch.multinomial(self.draws, size, replacement=True, generator=generator)
        height, width = self.rgb.shape[1:3]
        crop_w, crop_h = crop or (width, height)
        if not (0 < crop_w <= width and 0 < crop_h <= height):
            raise ValueError(f'crop {crop_w}x{crop_h} does not fit in the {width}x{height} samples')
        top = torch.randint(height - crop_h + 1, (size,), generator=generator, device=on_set)
        left = torch.randint(width - crop_w + 1, (size,), generator=generator, device=on_set)
        window = (i[:, None, None], (top[:, None] + torch.arange(crop_h, device=on_set))[:, :, None],
                  (left[:, None] + torch.arange(crop_w, device=on_set))[:, None, :])
        rgb = self.rgb[window].to(device).permute(0, 3, 1, 2).float() / 255.0
        labels, depth = self.labels[window].to(device), self.depth[window].to(device).float()
        normals = self.normals[window].to(device).permute(0, 3, 1, 2).float()
        flip = random(0.0, 1.0, size) < 0.5
        rgb = torch.where(flip[:, None, None, None], rgb.flip(-1), rgb)
        labels = torch.where(flip[:, None, None], labels.flip(-1), labels)
        depth = torch.where(flip[:, None, None], depth.flip(-1), depth)
        mirrored = normals.flip(-1)
        mirrored[:, 0].neg_()
        normals = torch.where(flip[:, None, None, None], mirrored, normals)
        batch = {'rgb': rgb, 'segmentation': labels, 'depth': depth, 'normals': normals,
                 'focal': self.focal[i].to(device) * width}
        if self.soft is not None:
            soft = self.soft[window].to(device).permute(0, 3, 1, 2).float()
            batch['soft'] = torch.where(flip[:, None, None, None], soft.flip(-1), soft)
        if augmented:
            batch = augment.zoom(batch, generator)
            batch['rgb'] = augment.photometric(batch['rgb'], generator)
            return augment.cut_out(batch, generator)
        return {**batch, 'rgb': augment.jitter(rgb, generator)}


LOG_EVERY = 25    # steps between reads of the loss
WARMUP = 0.02     # fraction of the budget over which the learning rate ramps up


@dataclass
class TrainOptions:
    """What `train` runs: the budget (minutes or steps), batch, learning rate, device and checkpoints."""

    out: Path
    minutes: float | None = None
    steps: int | None = None
    batch: int = 8
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    checkpoint_every: int = 200
    resume: bool = False
    init: Path | None = None    # weights to start from instead of random ones (fine-tuning)
    device: str = 'cpu'
    precision: str = 'fp32'   # bf16 autocast: about twice the steps per second on GPUs and on CPUs with bf16 units
    half_weights: bool = False  # store the final weights as float16 (half the size; inference runs in float32)
    class_balance: bool = True  # weight the segmentation cross-entropy toward rare classes
    compile: bool = False       # torch.compile the forward pass and losses (fuses the many small loss kernels)
    crop: tuple[int, int] | None = None  # train on random W x H windows of the samples instead of whole ones
    augmented: bool = True      # the augmentation module's camera effects (else brightness/contrast/colour only)
    canonical_depth: bool = True  # teach depth for the canonical camera (model.canonical), else metres as seen
    progress: bool = True
    # Called with the network (in eval mode) after each checkpoint; what it returns joins the progress bar.
    evaluate: Callable[[VisionBananaNet], dict[str, float]] | None = None


def _save_checkpoint(folder: Path, network, optimizer, state: dict, trained_size: tuple[int, int]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    save_network(network, folder / 'weights.safetensors', trained_size=trained_size)
    tensors, meta = {}, {}
    for i, group_state in optimizer.state_dict()['state'].items():  # i: the parameter's index
        for key, value in group_state.items():
            if torch.is_tensor(value) and value.ndim > 0:
                tensors[f'{i}.{key}'] = value.contiguous()
            else:
                meta[f'{i}.{key}'] = float(value)
    save_file(tensors, str(folder / 'optimizer.safetensors'))
    (folder / 'state.json').write_text(json.dumps({**state, 'optimizer_scalars': meta}))


def _load_checkpoint(folder: Path, optimizer, device) -> tuple[VisionBananaNet, dict]:
    network = load_network(folder / 'weights.safetensors', device).train()
    state = json.loads((folder / 'state.json').read_text())
    tensors = load_file(str(folder / 'optimizer.safetensors'), device=str(device))
    params = list(network.parameters())
    optimizer = optimizer(params)
    for i, param in enumerate(params):
        if f'{i}.exp_avg' in tensors:
            optimizer.state[param] = {'exp_avg': tensors[f'{i}.exp_avg'], 'exp_avg_sq': tensors[f'{i}.exp_avg_sq'],
                                      'step': torch.tensor(state['optimizer_scalars'][f'{i}.step'])}
    return network, {**state, 'optimizer': optimizer}


def _losses(network, images, batch, task_ids, class_weights, device, precision) -> torch.Tensor:
    """The loss of each task the network answers, for one batch."""
    with autocast(device, precision):
        answers = network(images, task_ids)
    extra = {'segmentation': {'class_weights': class_weights, 'soft': batch.get('soft')}, 'depth': {},
             'normals': {'far': torch.isposinf(batch['depth'])}}
    return torch.stack([TASK_LOSSES[task](answers[:, i].float(), batch[task], **extra[task])
                        for i, task in enumerate(network.config.tasks)])


def check_crop(crop: tuple[int, int] | None, stride: int, size: tuple[int, int]) -> None:
    """Refuse training windows (W, H) larger than the frames' `size` (W, H) or whose sides are not multiples of
    the network's `stride`.
    """
    if crop and (crop[0] > size[0] or crop[1] > size[1]):
        raise ValueError(f'--crop {crop[0]}x{crop[1]} does not fit in the {size[0]}x{size[1]} frames (--size)')
    if crop and any(side % stride for side in crop):
        # A padded window puts padding in the network's last rows or columns, where the loss never looks; whole
        # frames at inference put real pixels there, for a network that never learned them (seen: road at 1.6 m
        # painted 60 m away).
        raise ValueError(f'--crop {crop[0]}x{crop[1]}: both sides must be multiples of {stride}')


def _canonical_focal(network, weights: Path | None, width: int) -> float:
    """The canonical focal length, in widths of these `width`-pixel frames, for a network loaded from `weights`
    (None: a new one) about to train: the one it painted for, kept in pixels (it learned how large things look at
    that length; read in widths of the weights' trained size, or of these frames where the file does not say), else
    the 70 deg camera's.
    """
    if network.canonical_focal is None:
        return CANONICAL_FOCAL
    earlier = trained_size(weights) if weights else None
    return canonical_focal_at(network.canonical_focal, earlier[1], width) if earlier else network.canonical_focal


def canonical_depth(batch: dict[str, torch.Tensor], canonical_focal: float, width: int) -> torch.Tensor:
    """The batch's depth as the canonical camera (`canonical_focal` widths of `width`-pixel frames) would measure it:
    times the canonical focal length over each sample's own, both in pixels.
    """
    return batch['depth'] * (canonical_focal * width / batch['focal'])[:, None, None]


def train(data: TrainingSet, config: NetworkConfig, options: TrainOptions) -> VisionBananaNet:
    """Train the unified network of `config` on `data` within the budget and return it."""
    if (options.minutes is None) == (options.steps is None):
        raise ValueError('give exactly one training budget: --minutes or --steps')
    device = torch.device(options.device)
    if warning := precision_warning(device, options.precision):
        print(f'warning: {warning}', file=sys.stderr)
    data = data.to(device)
    height, width = data.rgb.shape[1:3]
    checkpoint = options.out / 'checkpoint'

    def make_optimizer(params):
        return torch.optim.AdamW(params, lr=options.lr, weight_decay=options.weight_decay)
    if options.resume and (checkpoint / 'state.json').exists():
        network, state = _load_checkpoint(checkpoint, make_optimizer, device)
        optimizer, step, elapsed = state['optimizer'], state['step'], state['elapsed_s']
        if network.canonical_focal is not None:   # a checkpoint may have been written at another size
            network.canonical_focal = _canonical_focal(network, checkpoint / 'weights.safetensors', width)
    else:
        torch.manual_seed(options.seed)
        network = (load_network(options.init, device) if options.init else VisionBananaNet(config)).to(device).train()
        if network.config != config and replace(network.config, encoder_blocks=config.encoder_blocks) == config:
            network = deepened(network, config.encoder_blocks)   # --init with blocks added to its encoder
        if network.config != config:
            raise ValueError(f'--init {options.init}: its network ({network.config.tasks}, widths '
                             f'{network.config.encoder_widths}) is not the one to train ({config.tasks}, widths '
                             f'{config.encoder_widths})')
        optimizer, step, elapsed = make_optimizer(network.parameters()), 0, 0.0
        network.canonical_focal = _canonical_focal(network, options.init, width) if options.canonical_depth else None
    check_crop(options.crop, network.stride, (width, height))
    # Weights record the frames' size, windows or not: whole frames at inference are best at the size the network
    # saw (it reads a pixel's viewing ray from the frame borders; stage-7 weights, trained at 256x192, lost 1.5 deg
    # of normals run at 320x240), and windows show things at the frames' pixel scale.
    frame_size = (height, width)
    generator = torch.Generator(device=data.rgb.device)
    generator.manual_seed(options.seed + step)
    task_ids = torch.arange(len(network.config.tasks), device=device)
    class_weights = class_balance_weights(data.labels, draws=data.draws).to(device) if options.class_balance else None
    # Channels-last convolutions are faster on GPUs (tensor cores) and on the CPU too: a whole-frame step of the
    # embedded network (batch 8, 320x240, fp32, 2 AVX2 cores) took 2.6 s against 2.9 s (1.10-1.13x in three rounds).
    network = network.to(memory_format=torch.channels_last)
    objective = torch.compile(_losses) if options.compile else _losses
    budget = options.steps if options.steps is not None else options.minutes * 60.0
    progress = tqdm(total=round(budget), initial=round(min(step if options.steps else elapsed, budget)),
                    unit='step' if options.steps else 's', disable=not options.progress,
                    desc=f'train {"+".join(network.config.tasks)} ({parameter_count(network) / 1e6:.2f} M)')
    # Losses stay on the device and are read every LOG_EVERY steps: reading one waits for the GPU.
    history, pending, shown = [], [], {}
    started = time.monotonic() - elapsed
    while True:
        done = step / options.steps if options.steps else (time.monotonic() - started) / budget
        if done >= 1.0:
            break
        warmup = min(1.0, (done + 1e-9) / WARMUP)
        for group in optimizer.param_groups:
            group['lr'] = options.lr * warmup * 0.5 * (1.0 + math.cos(math.pi * done))
        batch = data.batch(options.batch, generator, device, options.crop, options.augmented)
        if network.canonical_focal is not None:
            batch['depth'] = canonical_depth(batch, network.canonical_focal, width)
        images = batch['rgb'].contiguous(memory_format=torch.channels_last)
        losses = objective(network, images, batch, task_ids, class_weights, device, options.precision)
        optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()
        torch.nn.utils.clip_grad_norm_(network.parameters(), 5.0)
        optimizer.step()
        step += 1
        if step == 1 and options.compile:
            started = time.monotonic() - elapsed   # compiling (the first step) is not part of a time budget
        pending.append(losses.detach())
        if len(pending) == LOG_EVERY:
            means = torch.stack(pending).mean(0).tolist()
            pending.clear()
            history.append(sum(means))
            progress.update(LOG_EVERY if options.steps else round(time.monotonic() - started) - progress.n)
            shown.update({t: f'{v:.3f}' for t, v in zip(network.config.tasks, means)})
            progress.set_postfix(shown)
        if step % options.checkpoint_every == 0:
            _save_checkpoint(checkpoint, network, optimizer, {'step': step, 'elapsed_s': time.monotonic() - started,
                                                              'loss': float(np.mean(history[-5:] or [np.nan]))},
                             frame_size)
            if options.evaluate:
                shown.update({k: f'{v:.3f}' for k, v in options.evaluate(network.eval()).items()})
                network.train()
                progress.set_postfix(shown)
    if pending:
        history.append(float(torch.stack(pending).mean(0).sum()))
    progress.close()
    network.eval()
    summary = {'steps': step, 'seconds': round(time.monotonic() - started), 'batch': options.batch,
               'samples': len(data), 'weighted': data.draws is not None, 'precision': options.precision,
               'crop': options.crop, 'class_balance': options.class_balance,
               'augmented': options.augmented, 'canonical_depth': options.canonical_depth,
               'final_loss': float(np.mean(history[-5:] or [np.nan]))}
    save_network(network, options.out / 'weights.safetensors', half=options.half_weights, trained_size=frame_size,
                 extra_metadata={TRAINING_KEY: json.dumps(summary)})
    return network
