"""Train the unified model and the single-task experts on a lent GPU from a packed set (tools/pack_training_set.py),
with the same recipe as `vision_banana train` (same losses, augmentation, schedule), the unified model for
SECONDS (OUT/unified) and each of the three experts for SECONDS / 3 (OUT/experts/<task>).
Usage: python tools/gpu_train.py PACK OUT --seconds S"""
import argparse
import json
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from PIL import Image

from vision_banana_ros.codecs import decode_depth, decode_normals
from vision_banana_ros.model.experiment import train_models
from vision_banana_ros.model.train import TrainingSet


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
    device = torch.device(args.device)
    report = {'device': torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu', 'frames': len(data)}
    options = dict(batch=args.batch, lr=args.lr, device=args.device, half_weights=True, checkpoint_every=10**9,
                   precision='bf16' if device.type == 'cuda' else 'fp32', progress=False)
    for name, experts in (('unified', False), ('experts', True)):
        models = train_models(data, Path(args.out) / name, experts, minutes=args.seconds / 60, **options)
        print(json.dumps(models), flush=True)
        report.update(models)
    (Path(args.out) / 'train_report.json').write_text(json.dumps(report, indent=2))


if __name__ == '__main__':
    main()
