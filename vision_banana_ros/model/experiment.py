"""What `vision_banana train` runs: load or render the data, then train the unified model or the experts."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .instructions import TASKS
from .network import NetworkConfig, VisionBananaNet, parameter_count
from .train import TrainingSet, TrainOptions, train


def expert_config(base: NetworkConfig, task: str, experts: int) -> NetworkConfig:
    """A single-task config whose widths are scaled so that `experts` of them hold about as many parameters as
    one `base` network."""
    target = parameter_count(VisionBananaNet(base)) / experts

    def scaled(scale):
        width = lambda c: max(4, int(round(c * scale / 4)) * 4)
        return NetworkConfig(encoder_widths=tuple(map(width, base.encoder_widths)), encoder_blocks=base.encoder_blocks,
                             decoder_widths=tuple(map(width, base.decoder_widths)), tasks=(task,),
                             task_dim=base.task_dim)

    scales = np.linspace(0.3, 1.0, 71)
    counts = [parameter_count(VisionBananaNet(scaled(s))) for s in scales]
    return scaled(scales[int(np.argmin(np.abs(np.array(counts) - target)))])


def load_training_set(args: argparse.Namespace) -> TrainingSet:
    from ..world import render_frame
    from ..world.dataset import iter_samples
    width, height = args.size
    if args.data:
        frames = list(tqdm(iter_samples(args.data), desc='load', unit='frame'))
        bad = [f.rgb.shape[:2] for f in frames if f.rgb.shape[:2] != (height, width)]
        if bad:
            raise ValueError(f'{args.data}: frames must be {width}x{height} (--size), found {bad[0][1]}x{bad[0][0]}')
    else:
        frames = [render_frame(args.render_seed + i, width, height)
                  for i in tqdm(range(args.render), desc='render', unit='frame')]
    return TrainingSet.from_frames(frames)


def run_training(args: argparse.Namespace) -> int:
    data = load_training_set(args)
    out = Path(args.out)
    base = NetworkConfig()
    jobs = ([(out / task, expert_config(base, task, len(TASKS))) for task in TASKS] if args.experts
            else [(out, base)])
    share = 1.0 / len(jobs)
    report = {}
    for folder, config in jobs:
        options = TrainOptions(out=folder, batch=args.batch, lr=args.lr, seed=args.seed, resume=args.resume,
                               device=args.device,
                               minutes=args.minutes * share if args.minutes else None,
                               steps=round(args.steps * share) if args.steps else None)
        started = time.monotonic()
        network = train(data, config, options)
        report[str(folder)] = {'tasks': list(config.tasks), 'parameters': parameter_count(network),
                               'seconds': round(time.monotonic() - started), 'torch_threads': torch.get_num_threads()}
    print(json.dumps(report))
    return 0
