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

"""Average two weights files of the same network, tensor by tensor: (1 - SHARE) * A + SHARE * B. Two fine-tunings
of one file that each won a different measure (the model card's stages 35 and 36) trade one for the other along the
line between them; stage 37 trained on from their half-and-half average.

The networks must have the same shape, trained size and canonical focal length, and neither may be a distilled
student (its record carries its teachers' licences, which an average would have to merge): one error naming what
differs. Tensors that are not floating point (batch norms' step counts) are A's. The output keeps A's metadata, its
training record replaced by the share and, for each file, its name, SHA-256 and own training record (files
from `train --out DIR` are all named weights.safetensors: the digest tells which ones were averaged).

Usage: python tools/average_weights.py A B --share 0.5 --out AVERAGE.safetensors [--half]
"""
import argparse
import hashlib
import json
from pathlib import Path

from vision_banana_ros.model.teachers import DISTILLATION_KEY
from vision_banana_ros.model.weights import (
    CANONICAL_FOCAL_KEY,
    CONFIG_KEY,
    load_network,
    read_metadata,
    save_network,
    TRAINED_SIZE_KEY,
    TRAINING_KEY,
)


def source(path: Path, metadata: dict) -> dict:
    """What the average records of one of its files: name, SHA-256 and the file's own training record."""
    return {'file': path.name, 'sha256': hashlib.sha256(path.read_bytes()).hexdigest(),
            'training': json.loads(metadata[TRAINING_KEY]) if TRAINING_KEY in metadata else None}


def average_weights(a: Path, b: Path, share: float, out: Path, half: bool = False) -> None:
    """Write (1 - share) * a + share * b to `out` (float16 tensors where `half`)."""
    if not 0 <= share <= 1:
        raise ValueError(f'the share of B must lie in [0, 1], got {share}')
    first, second = load_network(a), load_network(b)
    ours, theirs = read_metadata(a), read_metadata(b)
    for path, metadata in ((a, ours), (b, theirs)):
        if DISTILLATION_KEY in metadata:
            raise ValueError(f"{path} is a distilled student: its teachers' record would not carry over to an average")
    if ours.get(TRAINED_SIZE_KEY) != theirs.get(TRAINED_SIZE_KEY):
        raise ValueError(f'{a} and {b} were trained at different sizes: {ours.get(TRAINED_SIZE_KEY)} and '
                         f'{theirs.get(TRAINED_SIZE_KEY)}')
    if first.config != second.config:
        raise ValueError(f'{a} and {b} are different networks: {first.config} and {second.config}')
    if first.canonical_focal != second.canonical_focal:
        raise ValueError(f'{a} and {b} have different canonical focal lengths: {first.canonical_focal} and '
                         f'{second.canonical_focal}')
    other = second.state_dict()
    first.load_state_dict({name: (1 - share) * mine + share * other[name] if mine.is_floating_point() else mine
                           for name, mine in first.state_dict().items()})
    metadata = {key: value for key, value in ours.items() if key not in (CONFIG_KEY, CANONICAL_FOCAL_KEY)}
    metadata[TRAINING_KEY] = json.dumps({'average_of': [source(a, ours), source(b, theirs)], 'share_of_second': share})
    save_network(first, out, half=half, extra_metadata=metadata)


def main() -> None:
    """Parse the arguments and write the average."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('a', type=Path)
    parser.add_argument('b', type=Path)
    parser.add_argument('--share', type=float, default=0.5, help="B's share, 0..1 (default: %(default)s)")
    parser.add_argument('--out', type=Path, required=True)
    parser.add_argument('--half', action='store_true', help='store float16 tensors (as the embedded file is)')
    args = parser.parse_args()
    try:
        average_weights(args.a, args.b, args.share, args.out, args.half)
    except ValueError as error:
        parser.error(str(error))


if __name__ == '__main__':
    main()
