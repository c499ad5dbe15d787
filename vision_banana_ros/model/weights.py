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

"""Weights and training state on disk, through safetensors only (no pickle anywhere).

A weights file holds the network's tensors plus, in the safetensors metadata, the `NetworkConfig` it was built
with, so a file is self-describing: `load_network(path)` needs nothing else, the frame size it was trained at,
which inference defaults to, and, for weights that paint depth for a canonical camera (`model.canonical`), its focal
length in widths of that frame size, kept on the loaded network as `canonical_focal` (None: the network paints
metres directly).
"""
from __future__ import annotations

import json
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
import torch

from .network import NetworkConfig, VisionBananaNet

DEFAULT_WEIGHTS = Path(__file__).resolve().parents[1] / 'weights' / 'vision_banana_default.safetensors'
CONFIG_KEY = 'vision_banana.network_config'
TRAINED_SIZE_KEY = 'vision_banana.trained_size'
CANONICAL_FOCAL_KEY = 'vision_banana.canonical_focal'
TRAINING_KEY = 'vision_banana.training'       # how the file was made (JSON)


def save_network(network: VisionBananaNet, path: str | Path, half: bool = False,
                 trained_size: tuple[int, int] | None = None, extra_metadata: dict[str, str] | None = None) -> None:
    """`half` stores floating-point tensors as float16 (loading casts them back to the network's float32).
    `trained_size`: (height, width) of the frames the network learned from.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {CONFIG_KEY: json.dumps(network.config.to_dict()), **(extra_metadata or {})}
    if trained_size:
        metadata[TRAINED_SIZE_KEY] = json.dumps([int(side) for side in trained_size])
    if network.canonical_focal is not None:
        metadata[CANONICAL_FOCAL_KEY] = json.dumps(float(network.canonical_focal))

    def cast(v):
        return v.half() if half and v.is_floating_point() else v
    tensors = {k: cast(v.detach().cpu()).contiguous() for k, v in network.state_dict().items()}
    save_file(tensors, str(path), metadata=metadata)


def read_metadata(path: str | Path) -> dict[str, str]:
    """A weights file's safetensors metadata."""
    from safetensors import safe_open
    with safe_open(str(path), framework='pt') as handle:
        return dict(handle.metadata() or {})


def trained_size(path: str | Path | None = None) -> tuple[int, int] | None:
    """(height, width) the weights were trained at, or None where the file does not say (older files)."""
    path = Path(path) if path else DEFAULT_WEIGHTS
    value = read_metadata(path).get(TRAINED_SIZE_KEY)
    if value is None:
        return None
    try:
        height, width = (int(side) for side in json.loads(value))
        if height > 0 and width > 0:
            return height, width
    except (TypeError, ValueError):
        pass
    raise ValueError(f'weights file {path}: {TRAINED_SIZE_KEY} metadata {value!r} is not [height, width]')


def _file_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape, from the safetensors header alone (no tensor is read)."""
    from safetensors import safe_open
    with safe_open(str(path), framework='pt') as handle:
        return {name: tuple(handle.get_slice(name).get_shape()) for name in handle.keys()}


def _check_shapes(config: NetworkConfig, shapes: dict[str, tuple[int, ...]]) -> None:
    """ValueError unless the network `config` describes has exactly the file's tensors, shape for shape: checked
    on a meta-device build (no memory), so that a small file cannot ask for a huge network.
    """
    if sum(config.encoder_blocks) + len(config.encoder_widths) > len(shapes):   # each block has tensors
        raise ValueError(f'its network config asks for {sum(config.encoder_blocks)} encoder blocks, more than its '
                         f'{len(shapes)} tensors can hold: the config does not match its tensors')
    with torch.device('meta'):
        expected = {k: tuple(v.shape) for k, v in VisionBananaNet(config).state_dict().items()}
    missing, unexpected = sorted(set(expected) - set(shapes)), sorted(set(shapes) - set(expected))
    wrong = sorted(k for k in set(expected) & set(shapes) if expected[k] != shapes[k])
    if missing or unexpected or wrong:
        detail = '; '.join(part for part in (
            f'missing tensors {missing[:3]}' if missing else '',
            f'unexpected tensors {unexpected[:3]}' if unexpected else '',
            f'{wrong[0]} is {list(shapes[wrong[0]])}, the config needs {list(expected[wrong[0]])}' if wrong else '')
            if part)
        raise ValueError(f'its network config does not match its tensors ({detail})')


def load_network(path: str | Path | None = None, device: str | torch.device = 'cpu') -> VisionBananaNet:
    """Build the network a weights file describes and load its tensors. Any problem with the file (missing,
    truncated, not safetensors, wrong or missing tensors, shapes that do not fit) is one ValueError naming it.
    """
    path = Path(path) if path else DEFAULT_WEIGHTS
    if path.is_dir():
        raise ValueError(f'weights file {path} is a directory: give the .safetensors file in it')
    try:
        metadata = read_metadata(path)
        config = NetworkConfig.from_dict(json.loads(metadata[CONFIG_KEY]))
        _check_shapes(config, _file_shapes(path))
        network = VisionBananaNet(config)
        network.load_state_dict(load_file(str(path), device='cpu'), strict=True)
        focal = json.loads(metadata.get(CANONICAL_FOCAL_KEY, 'null'))
        if focal is not None and not (isinstance(focal, (int, float)) and 0 < focal < 100):
            raise ValueError(f'{CANONICAL_FOCAL_KEY} metadata {focal!r} is not a focal length in widths of the '
                             'trained size')
        network.canonical_focal = focal
    except FileNotFoundError:
        raise ValueError(f'weights file {path} does not exist') from None
    except KeyError:
        raise ValueError(f'weights file {path} has no {CONFIG_KEY} metadata: not a vision_banana network') from None
    except (SafetensorError, OSError, RuntimeError, TypeError, ValueError, AttributeError) as exc:
        # ValueError: bad JSON or a network config that is not one (unknown task); AttributeError: metadata
        # that is not a JSON object
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()] or [type(exc).__name__]
        reason = ' '.join(lines[:2])[:300]
        raise ValueError(f'weights file {path} cannot be loaded: {reason}') from None
    return network.to(device).eval()
