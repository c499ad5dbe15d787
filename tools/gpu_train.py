"""Train the unified model and the single-task experts on a lent GPU from a packed set (tools/pack_training_set.py),
with the same recipe as `vision_banana train` (same losses, augmentation, schedule), the unified model for
SECONDS and each of the three experts for SECONDS / 3.   Usage: python tools/gpu_train.py PACK OUT --seconds S"""
import argparse
import json
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from PIL import Image

from vision_banana_ros.codecs import decode_depth, decode_normals
from vision_banana_ros.model.experiment import expert_config
from vision_banana_ros.model.network import NetworkConfig, parameter_count
from vision_banana_ros.model.train import TrainingSet, TrainOptions, train
from vision_banana_ros.model.weights import read_metadata
from vision_banana_ros.tasks import TASKS


def load(pack: Path) -> TrainingSet:
    frames = []
    for path in sorted((pack / 'rgb').glob('*.jpg')):
        name = path.stem + '.png'
        read = lambda folder: np.asarray(Image.open(pack / folder / name))
        frames.append(SimpleNamespace(rgb=np.asarray(Image.open(path)), labels=read('labels'),
                                      depth=decode_depth(read('depth')),
                                      normals=np.nan_to_num(decode_normals(read('normals')))))
    return TrainingSet.from_frames(frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('pack')
    parser.add_argument('out')
    parser.add_argument('--seconds', type=float, required=True)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--lr', type=float, default=2e-3)
    parser.add_argument('--device', default='cuda')
    args = parser.parse_args()
    torch.backends.cudnn.benchmark = True
    started = time.monotonic()
    data = load(Path(args.pack))
    print(f'loaded {len(data)} frames in {time.monotonic() - started:.0f} s', flush=True)
    base = NetworkConfig()
    jobs = [('unified', base, args.seconds)] + [(f'expert_{t}', expert_config(base, t, len(TASKS)), args.seconds / 3)
                                                for t in TASKS]
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'
    report = {'device': name, 'frames': len(data), 'batch': args.batch}
    for name, config, seconds in jobs:
        out = Path(args.out) / name
        options = TrainOptions(out=out, minutes=seconds / 60, batch=args.batch, lr=args.lr, device=args.device,
                               precision='bf16' if device.type == 'cuda' else 'fp32', half_weights=True,
                               checkpoint_every=10**9, progress=False)
        network = train(data, config, options)
        meta = json.loads(read_metadata(out / 'weights.safetensors')['vision_banana.training'])
        report[name] = {'parameters': parameter_count(network), **meta}
        print(json.dumps({name: report[name]}), flush=True)
    (Path(args.out) / 'train_report.json').write_text(json.dumps(report, indent=2))


if __name__ == '__main__':
    main()
