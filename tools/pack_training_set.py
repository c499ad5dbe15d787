"""Pack a data set directory small enough to travel to a lent GPU machine (which has no open3d to render with):
RGB as JPEG, labels as PNG, depth and normals as their lossless 8-bit codec images (PNG). About 30 KB a frame
at 256x192.   Usage: python tools/pack_training_set.py DATASET_DIR PACK_DIR [--count N]"""
import argparse
import itertools
from pathlib import Path

from PIL import Image

from vision_banana_ros.codecs import encode_depth_uint8, encode_normals_uint8
from vision_banana_ros.world.dataset import iter_samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('dataset')
    parser.add_argument('pack')
    parser.add_argument('--count', type=int)
    args = parser.parse_args()
    out = Path(args.pack)
    for folder in ('rgb', 'labels', 'depth', 'normals'):
        (out / folder).mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(itertools.islice(iter_samples(args.dataset), args.count)):
        Image.fromarray(frame.rgb).save(out / 'rgb' / f'{i:05d}.jpg', quality=92)
        Image.fromarray(frame.labels).save(out / 'labels' / f'{i:05d}.png')
        Image.fromarray(encode_depth_uint8(frame.depth)).save(out / 'depth' / f'{i:05d}.png')
        Image.fromarray(encode_normals_uint8(frame.normals)).save(out / 'normals' / f'{i:05d}.png')


if __name__ == '__main__':
    main()
