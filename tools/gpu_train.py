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

"""Train the unified model or the single-task experts on a lent GPU from packs (tools/pack_training_set.py),
with the recipe of `vision_banana train` (same losses, augmentation, schedule): the unified model for SECONDS
(OUT/unified), or each of the three experts for SECONDS / 3 (OUT/experts/<task>). Run one process per kind side by
side to give both the same wall-clock budget on one GPU.
Usage (from the repository root; the package need not be installed):
       PYTHONPATH=. python tools/gpu_train.py OUT --models unified|experts --seconds S PACK.zip [PACK.zip ...]
       [--init WEIGHTS] [--encoder-blocks N,N,N,N,N] [--crop WxH] [--seed N] [--checkpoint-every STEPS]
       (as in `vision_banana train`)
Packs that are missing are skipped (a pack carried by an earlier call may be gone with its machine); a pack listed
N times is loaded once and drawn N times as often. S counts training steps only (loading, compiling and saving come
on top): every --checkpoint-every steps the float32 weights go to OUT/<kind>/checkpoint/weights.safetensors, so a
command cut off by the machine's time limit still leaves weights the node loads.

Measured on an H200 (batch 32, bf16): without --compile the unified model ran ~20 steps/s alone and ~16 steps/s
beside the experts process, which kept the GPU ~100 % busy. --compile spent about 4 minutes compiling before the
first step when both processes compiled at once (not counted in S, but in the lent machine's time): leave it off
unless S is much longer than that. Unpacked sets load at ~170 frames/s with 7 workers.
"""
import argparse
from collections import Counter
import functools
import io
import json
import multiprocessing
from pathlib import Path
import time
from types import SimpleNamespace
import zipfile

import numpy as np
from PIL import Image
import torch

from vision_banana_ros.cli_arguments import count, list_of
from vision_banana_ros.cli_arguments import size_wh as parse_size
from vision_banana_ros.codecs import decode_depth, decode_normals
from vision_banana_ros.model.experiment import network_config, train_models
from vision_banana_ros.model.train import TrainingSet

_archive = functools.lru_cache(maxsize=None)(zipfile.ZipFile)   # one open pack per worker process
CHECKPOINT_EVERY = 1000     # steps: about a minute at the H200's ~20 steps/s


def read_frame(job: tuple[str, str]) -> SimpleNamespace:
    """One frame of a pack: RGB, labels, depth (black, 0 m: unknown, NaN) and normals decoded from its codec
    images, and its intrinsics (None where the pack has none: trained as the canonical camera).
    """
    pack, name = job

    def read(folder, suffix='webp'):
        return np.asarray(Image.open(io.BytesIO(
            _archive(pack).read(f'{folder}/{name}.{suffix}'))).convert('RGB'))
    try:
        intrinsics = json.loads(_archive(pack).read(f'intrinsics/{name}.json'))
    except KeyError:    # a pack made before they were packed
        intrinsics = None
    depth = decode_depth(read('depth'))
    return SimpleNamespace(rgb=read('rgb', 'jpg'), labels=read('labels')[..., 0],
                           depth=np.where(depth > 0, depth, np.nan),
                           normals=np.nan_to_num(decode_normals(read('normals'))), intrinsics=intrinsics)


def load(packs: list[Path], workers: int) -> TrainingSet:
    """Every frame of the packs, read by `workers` processes, as one TrainingSet; a pack listed N times is held
    once and drawn N times as often (as `vision_banana train` weighs a folder listed N times).
    """
    jobs, listings = [], []
    for pack, times in Counter(packs).items():
        with zipfile.ZipFile(pack) as archive:
            names = [Path(name).stem for name in sorted(archive.namelist()) if name.startswith('rgb/')]
        jobs += [(str(pack), name) for name in names]
        listings.append((len(names), times))
    with multiprocessing.Pool(workers) as pool:
        data = TrainingSet.from_frames(pool.imap(read_frame, jobs, chunksize=32), count=len(jobs))
    data.weigh_listings(listings)
    return data


def main() -> None:
    """Train on the packs and write the weights under OUT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('out')
    parser.add_argument('packs', nargs='+', type=Path)
    parser.add_argument('--models', choices=('unified', 'experts'), required=True)
    parser.add_argument('--seconds', type=float, required=True)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--lr', type=float, default=2e-3)
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--init', type=Path, help='unified weights to fine-tune instead of random ones')
    parser.add_argument('--encoder-blocks', type=list_of(count),
                        help='residual blocks per encoder stage (default: those of --init, else 0,1,2,2,2)')
    parser.add_argument('--crop', type=parse_size, help='train on WxH windows')
    parser.add_argument('--workers', type=int, default=4, help='processes decoding the packs')
    parser.add_argument('--compile', action='store_true', help='torch.compile the forward pass and losses')
    parser.add_argument('--seed', type=int, default=0, help='batches and augmentation draws')
    parser.add_argument('--checkpoint-every', type=count, default=CHECKPOINT_EVERY,
                        help='steps between checkpoints (OUT/<kind>/checkpoint)')
    args = parser.parse_args()
    # what would fail after minutes of loading fails first
    if args.init is not None and args.models == 'experts':
        parser.error('--init is unified weights: the experts start from random ones')
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: no CUDA device here')
    base = network_config(args.init, args.encoder_blocks)
    torch.backends.cudnn.benchmark = True
    started = time.monotonic()
    data = load([p for p in args.packs if p.is_file()], args.workers)
    print(f'{args.models}: loaded {len(data)} frames in {time.monotonic() - started:.0f} s', flush=True)
    options = {'batch': args.batch, 'lr': args.lr, 'device': args.device, 'init': args.init, 'crop': args.crop,
               'half_weights': True, 'checkpoint_every': args.checkpoint_every, 'seed': args.seed,
               'precision': 'bf16' if device.type == 'cuda' else 'fp32', 'compile': args.compile, 'progress': False}
    out = Path(args.out) / args.models
    report = {'device': torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu', 'frames': len(data),
              **train_models(data, out, args.models == 'experts', minutes=args.seconds / 60, base=base, **options)}
    print(json.dumps(report), flush=True)
    (out / 'train_report.json').write_text(json.dumps(report, indent=2))


if __name__ == '__main__':
    main()
