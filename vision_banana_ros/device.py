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

"""Device and precision choices, validated with messages that name the parameter. Below the model (training's
autocast) and the engine, which both use them; imports torch only.
"""
from __future__ import annotations

import contextlib

import torch

PRECISIONS = {'fp32': torch.float32, 'fp16': torch.float16, 'bf16': torch.bfloat16}


def resolve_device(name: str) -> torch.device:
    """'auto' (CUDA when present, else CPU), 'cpu', 'cuda' or 'cuda:N'."""
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f'device: {name!r} is not one of auto, cpu, cuda, cuda:N') from None
    if device.type not in ('cpu', 'cuda'):
        raise ValueError(f'device: {name!r} is not one of auto, cpu, cuda, cuda:N')
    if device.type == 'cuda':
        if not torch.cuda.is_available():
            raise ValueError(f"device: {name!r} asked for, but this torch sees no CUDA GPU (use 'auto' or 'cpu')")
        if (device.index or 0) >= torch.cuda.device_count():
            raise ValueError(f'device: {name!r} asked for, but only {torch.cuda.device_count()} CUDA device(s) exist')
    return device


def check_precision(name: str) -> torch.dtype:
    """The torch dtype of 'fp32', 'fp16' or 'bf16'."""
    if name not in PRECISIONS:
        raise ValueError(f'precision: {name!r} is not one of {", ".join(PRECISIONS)}')
    return PRECISIONS[name]


def precision_warning(device: torch.device, precision: str) -> str | None:
    """Why `precision` runs slowly on `device`, or None: a CPU without bf16 or fp16 units (AVX2 only) emulates
    the half type, far slower than fp32.
    """
    if device.type != 'cpu' or check_precision(precision) == torch.float32:
        return None
    units = (torch.ops.mkldnn._is_mkldnn_bf16_supported() if precision == 'bf16' else
             torch.ops.mkldnn._is_mkldnn_fp16_supported())
    if units:
        return None
    return (f'precision {precision}: this CPU ({torch.backends.cpu.get_cpu_capability()}) has no {precision} units and '
            f'emulates it, many times slower than fp32 (a training step of the embedded network: over 10x); use fp32')


def autocast(device: torch.device, precision: str):
    """Mixed precision for the forward pass; fp32 runs as is."""
    dtype = check_precision(precision)
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
