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

"""Small tensor helpers shared by the codecs, geometry, resampling and losses."""
from typing import Callable, Hashable

import torch


def norm(x: torch.Tensor, dim: int, keepdim: bool = False) -> torch.Tensor:
    """Euclidean length along `dim`. Spelled out because torch.linalg.vector_norm over a dimension that is not the
    innermost runs about 100x slower on the CPU build used here (52 ms against 0.3 ms for 3 x 480 x 640).
    """
    return (x * x).sum(dim=dim, keepdim=keepdim).sqrt()


def on_device(cache: dict, key: Hashable, device: torch.device, make: Callable[[], torch.Tensor]) -> torch.Tensor:
    """The host tensor `make()` copied to `device` once and kept in `cache`: a copy from host memory on every call
    would make each call wait for the GPU. Made outside inference mode, so that training can use a table that
    the engine made first.
    """
    key = (key, str(device))
    if key not in cache:
        with torch.inference_mode(False):
            cache[key] = make().to(device)
    return cache[key]
