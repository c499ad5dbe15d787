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

"""What `vision_banana train` runs: load or render the data, then train the unified model or the experts."""
from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .network import NetworkConfig, parameter_count, VisionBananaNet
from .train import check_crop, train, TrainingSet, TrainOptions
from .weights import load_network, read_metadata, TRAINING_KEY
from ..tasks import TASKS


def expert_config(base: NetworkConfig, task: str, experts: int) -> NetworkConfig:
    """A single-task config whose widths are scaled so that `experts` of them hold about as many parameters as
    one `base` network.
    """
    target = parameter_count(VisionBananaNet(base)) / experts

    def scaled(scale):
        def width(c):
            return max(4, int(round(c * scale / 4)) * 4)
        return NetworkConfig(encoder_widths=tuple(map(width, base.encoder_widths)), encoder_blocks=base.encoder_blocks,
                             decoder_widths=tuple(map(width, base.decoder_widths)), tasks=(task,),
                             task_dim=base.task_dim)

    scales = np.linspace(0.3, 1.0, 71)
    counts = [parameter_count(VisionBananaNet(scaled(s))) for s in scales]
    return scaled(scales[int(np.argmin(np.abs(np.array(counts) - target)))])


def load_training_set(args: argparse.Namespace) -> TrainingSet:
    """The training frames the arguments ask for: rendered, or read from data set directories."""
    from ..world import render_frame
    from ..world.dataset import iter_samples, read_dataset
    width, height = args.size
    if args.render:
        frames = (render_frame(args.render_seed + i, width, height)
                  for i in tqdm(range(args.render), desc='render', unit='frame'))
        return TrainingSet.from_frames(frames, args.render)

    def at_size(frames):   # a wrong size fails on the first frame, not after loading them all
        for frame in frames:
            if frame.rgb.shape[:2] != (height, width):
                raise ValueError(f'{args.data}: frames must be {width}x{height} (--size), found '
                                 f'{frame.rgb.shape[1]}x{frame.rgb.shape[0]}')
            yield frame

    # A folder listed n times is loaded once and drawn n times as often: a street set counted three times beside
    # the wide sets took three copies of its frames in memory.
    spelt = {}       # real path -> the first spelling of it
    times = collections.Counter(spelt.setdefault(os.path.realpath(f), f) for f in args.data.split(','))
    counts = {folder: len(read_dataset(folder)) for folder in times}
    total = sum(counts.values())
    frames = (frame for folder in times for frame in iter_samples(folder))
    data = TrainingSet.from_frames(at_size(tqdm(frames, desc='load', unit='frame', total=total)), total)
    data.weigh_listings([(counts[folder], n) for folder, n in times.items()])
    return data


def network_config(init: Path | None, encoder_blocks=None) -> NetworkConfig:
    """The network to train: the --init file's (fine-tuning trains the network it describes), else the default,
    with `encoder_blocks` residual blocks per encoder stage where given (added to the file's as identities).
    """
    base = load_network(init).config if init else NetworkConfig()
    return dataclasses.replace(base, encoder_blocks=tuple(encoder_blocks)) if encoder_blocks else base


def train_models(data: TrainingSet, out: Path, experts: bool, minutes: float | None = None,
                 steps: int | None = None, base: NetworkConfig = NetworkConfig(), **options) -> dict:
    """The unified model of config `base` into `out`, or one expert per task into `out/<task>` sharing the
    budget equally and holding together about the unified parameter count. `options` go to TrainOptions. Returns,
    per model folder, its tasks, parameter count and the training summary stored in its weights.
    """
    jobs = [(out / t, expert_config(base, t, len(TASKS))) for t in TASKS] if experts else [(out, base)]
    share = 1.0 / len(jobs)
    report = {}
    for folder, config in jobs:
        network = train(data, config, TrainOptions(out=folder, minutes=minutes * share if minutes else None,
                                                   steps=max(1, round(steps * share)) if steps else None, **options))
        summary = json.loads(read_metadata(folder / 'weights.safetensors')[TRAINING_KEY])
        report[str(folder)] = {'tasks': list(config.tasks), 'parameters': parameter_count(network), **summary}
    return report


def run_training(args: argparse.Namespace) -> int:
    """Train the models the arguments ask for and print the report; return 0."""
    check_crop(args.crop, NetworkConfig().stride, args.size)   # before loading, which may take minutes
    base = network_config(args.init, args.encoder_blocks)
    report = train_models(load_training_set(args), Path(args.out), args.experts, args.minutes, args.steps, base,
                          batch=args.batch, crop=args.crop, lr=args.lr, seed=args.seed, resume=args.resume,
                          init=args.init, device=args.device, augmented=not args.no_augment,
                          canonical_depth=not args.metric_depth, precision=args.precision)
    print(json.dumps({**report, 'torch_threads': torch.get_num_threads()}))
    return 0
