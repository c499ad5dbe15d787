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

"""The public checkpoints the experts backend supports, and how to get them.

`CHECKPOINTS` is the table `vision_banana models list` prints and docs/experts.md explains (adding
a checkpoint is one row). Licences are as the model cards on the Hugging Face Hub state them.
`pull` downloads a safetensors-only snapshot into huggingface_hub's standard cache (needs
internet); `resolve` finds a hub id there offline, or takes a local directory, so that the node
never touches the network.
"""

from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path

# What a snapshot needs: the weights as safetensors (never pickles) and the JSON/text configs of
# model and processor.
ALLOW_PATTERNS = ['*.safetensors', '*.json', '*.txt']


@dataclass(frozen=True)
class Checkpoint:
    """One supported checkpoint: hub id, task, family, the licence its card states, whether that
    licence allows
    commercial use, parameters (millions), the processor's native input size and what it was
    trained on.
    """

    hub_id: str
    task: str
    family: str
    licence: str
    commercial: str  # 'yes', 'no', or 'unclear' where the card's licence does not say
    parameters_m: float
    native_size: str
    trained_on: str


_NVIDIA = 'NVIDIA Source Code License (non-commercial)'
_DA_SMALL = 'Apache-2.0'
_DA_LARGER = 'CC-BY-NC-4.0'
CHECKPOINTS = (
    Checkpoint(
        'nvidia/segformer-b0-finetuned-cityscapes-1024-1024',
        'segmentation',
        'segformer',
        _NVIDIA,
        'no',
        3.8,
        '1024x1024',
        'Cityscapes',
    ),
    Checkpoint(
        'nvidia/segformer-b1-finetuned-cityscapes-1024-1024',
        'segmentation',
        'segformer',
        _NVIDIA,
        'no',
        13.7,
        '1024x1024',
        'Cityscapes',
    ),
    Checkpoint(
        'nvidia/segformer-b2-finetuned-cityscapes-1024-1024',
        'segmentation',
        'segformer',
        _NVIDIA,
        'no',
        27.4,
        '1024x1024',
        'Cityscapes',
    ),
    Checkpoint(
        'nvidia/segformer-b3-finetuned-cityscapes-1024-1024',
        'segmentation',
        'segformer',
        _NVIDIA,
        'no',
        47.3,
        '1024x1024',
        'Cityscapes',
    ),
    Checkpoint(
        'nvidia/segformer-b4-finetuned-cityscapes-1024-1024',
        'segmentation',
        'segformer',
        _NVIDIA,
        'no',
        64.1,
        '1024x1024',
        'Cityscapes',
    ),
    Checkpoint(
        'nvidia/segformer-b5-finetuned-cityscapes-1024-1024',
        'segmentation',
        'segformer',
        _NVIDIA,
        'no',
        84.7,
        '1024x1024',
        'Cityscapes',
    ),
    Checkpoint(
        'facebook/mask2former-swin-tiny-cityscapes-semantic',
        'segmentation',
        'mask2former',
        'other',
        'unclear',
        47.4,
        'short side 384 (x32)',
        'Cityscapes',
    ),
    Checkpoint(
        'facebook/mask2former-swin-large-cityscapes-semantic',
        'segmentation',
        'mask2former',
        'other',
        'unclear',
        215.5,
        'short side 384 (x32)',
        'Cityscapes',
    ),
    Checkpoint(
        'depth-anything/Depth-Anything-V2-Metric-Outdoor-Small-hf',
        'depth',
        'depth_anything',
        _DA_SMALL,
        'yes',
        24.8,
        '518 (aspect kept, x14)',
        'Virtual KITTI 2 (max 80 m)',
    ),
    Checkpoint(
        'depth-anything/Depth-Anything-V2-Metric-Outdoor-Base-hf',
        'depth',
        'depth_anything',
        _DA_LARGER,
        'no',
        97.5,
        '518 (aspect kept, x14)',
        'Virtual KITTI 2 (max 80 m)',
    ),
    Checkpoint(
        'depth-anything/Depth-Anything-V2-Metric-Outdoor-Large-hf',
        'depth',
        'depth_anything',
        _DA_LARGER,
        'no',
        335.3,
        '518 (aspect kept, x14)',
        'Virtual KITTI 2 (max 80 m)',
    ),
    Checkpoint(
        'depth-anything/Depth-Anything-V2-Metric-Indoor-Small-hf',
        'depth',
        'depth_anything',
        _DA_SMALL,
        'yes',
        24.8,
        '518 (aspect kept, x14)',
        'Hypersim (max 20 m)',
    ),
    Checkpoint(
        'depth-anything/Depth-Anything-V2-Metric-Indoor-Base-hf',
        'depth',
        'depth_anything',
        _DA_LARGER,
        'no',
        97.5,
        '518 (aspect kept, x14)',
        'Hypersim (max 20 m)',
    ),
    Checkpoint(
        'depth-anything/Depth-Anything-V2-Metric-Indoor-Large-hf',
        'depth',
        'depth_anything',
        _DA_LARGER,
        'no',
        335.3,
        '518 (aspect kept, x14)',
        'Hypersim (max 20 m)',
    ),
    Checkpoint(
        'apple/DepthPro-hf',
        'depth',
        'depth_pro',
        'apple-amlr (research only)',
        'no',
        952.0,
        '1536x1536',
        'mixed, metric with focal length',
    ),
    Checkpoint(
        'Intel/zoedepth-kitti',
        'depth',
        'zoedepth',
        'MIT',
        'yes',
        345.0,
        '384x512 (aspect kept, x32, padded)',
        'KITTI',
    ),
    Checkpoint(
        'Intel/zoedepth-nyu',
        'depth',
        'zoedepth',
        'MIT',
        'yes',
        345.0,
        '384x512 (aspect kept, x32, padded)',
        'NYU Depth v2',
    ),
    Checkpoint(
        'Intel/zoedepth-nyu-kitti',
        'depth',
        'zoedepth',
        'MIT',
        'yes',
        345.0,
        '384x512 (aspect kept, x32, padded)',
        'NYU Depth v2 + KITTI',
    ),
    Checkpoint(
        'vinvino02/glpn-kitti',
        'depth',
        'glpn',
        'Apache-2.0',
        'yes',
        61.3,
        'image size (x32)',
        'KITTI',
    ),
    Checkpoint(
        'vinvino02/glpn-nyu',
        'depth',
        'glpn',
        'Apache-2.0',
        'yes',
        61.3,
        'image size (x32)',
        'NYU Depth v2',
    ),
)
BY_ID = {c.hub_id: c for c in CHECKPOINTS}

# Recommended pairings (config/experts_<name>.yaml): (segmentation, depth); None: that task not
# run.
PAIRINGS = {
    'fast': (
        'nvidia/segformer-b0-finetuned-cityscapes-1024-1024',
        'depth-anything/Depth-Anything-V2-Metric-Outdoor-Small-hf',
    ),
    'accurate': (
        'nvidia/segformer-b5-finetuned-cityscapes-1024-1024',
        'depth-anything/Depth-Anything-V2-Metric-Outdoor-Large-hf',
    ),
    # every licence allows commercial use; no Cityscapes segmentation checkpoint here clearly does
    'commercial': (None, 'depth-anything/Depth-Anything-V2-Metric-Outdoor-Small-hf'),
}


def is_hub_id(name: str) -> bool:
    """'org/name' that is not a directory here: a hub id."""
    return (
        name.count('/') == 1 and not name.startswith(('.', '/', '~')) and not Path(name).exists()
    )


def resolve(name: str, cache_dir: str | Path | None = None) -> Path:
    """A checkpoint directory from a local directory or a hub id pulled before, offline (no
    network, ever).
    ValueError naming `vision_banana models pull` when the id is not in the cache.
    """
    if not is_hub_id(name):
        path = Path(name).expanduser()
        if not path.is_dir():
            raise ValueError(f'{name} is neither a checkpoint directory nor a hub id (org/name)')
        return path
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        folder = Path(
            snapshot_download(
                name, cache_dir=cache_dir, local_files_only=True, allow_patterns=ALLOW_PATTERNS
            )
        )
    except LocalEntryNotFoundError:
        folder = None
    if folder is not None and not any(folder.glob('*.safetensors')):
        raise ValueError(_no_safetensors(name))
    if folder is None:
        where = f' --cache {cache_dir}' if cache_dir else ''
        raise ValueError(
            f'{name} is not in the Hugging Face cache ({cache_dir or _default_cache()}): run '
            f'`vision_banana models pull {name}{where}` on a machine with internet first'
        )
    return folder


def pull(names: list[str], cache_dir: str | Path | None = None) -> list[Path]:
    """Download safetensors-only snapshots into the cache (resumable: finished files are kept; a
    progress bar per file). Ids outside the table are allowed: the backend checks the family when it
    loads them. ValueError for a repository with no safetensors weights (its configuration alone would
    be pulled, and loading would fail).
    """
    from huggingface_hub import snapshot_download

    folders = []
    for name in names:
        folder = Path(snapshot_download(name, cache_dir=cache_dir, allow_patterns=ALLOW_PATTERNS))
        if not any(folder.glob('*.safetensors')):
            raise ValueError(_no_safetensors(name))
        folders.append(folder)
    return folders


def _no_safetensors(name: str) -> str:
    return (f'{name} has no safetensors weights on the hub (pickled weights are never loaded): convert them to '
            'safetensors into a checkpoint directory, or pick a checkpoint from `vision_banana models list`')


def _default_cache() -> str:
    from huggingface_hub import constants

    return os.fspath(constants.HF_HUB_CACHE)


def table() -> str:
    """The checkpoint table as `vision_banana models list` prints it."""
    rows = [('hub id', 'task', 'licence', 'commercial', 'params (M)', 'native input')]
    rows += [
        (c.hub_id, c.task, c.licence, c.commercial, f'{c.parameters_m:g}', c.native_size)
        for c in CHECKPOINTS
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ['  '.join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    pairs = [f'{name}: {" + ".join(c for c in pair if c)}' for name, pair in PAIRINGS.items()]
    return '\n'.join(lines + ['', 'recommended pairings (config/experts_<name>.yaml):'] + pairs)
