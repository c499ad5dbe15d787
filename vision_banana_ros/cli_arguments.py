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

"""Argument types of `vision_banana`: each checks its text and says what is wrong in argparse's words."""
from __future__ import annotations

import argparse

from .parameters import BY_NAME


def _whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected a whole number, got {text!r}') from None
    if value < least:
        raise argparse.ArgumentTypeError(f'must be at least {least}, got {value}')
    return value


def positive(text: str) -> int:
    """A whole number of at least 1."""
    return _whole(text, 1)


def count(text: str) -> int:
    """A whole number, 0 or more."""
    return _whole(text, 0)


def _number(text: str, allow_zero: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected a number, got {text!r}') from None
    if not (value >= 0 if allow_zero else value > 0) or value == float('inf'):
        raise argparse.ArgumentTypeError(f'must be {"zero or more" if allow_zero else "positive"}, got {text}')
    return value


def positive_number(text: str) -> float:
    """A finite number above 0."""
    return _number(text, allow_zero=False)


def not_negative(text: str) -> float:
    """A finite number, 0 or more."""
    return _number(text, allow_zero=True)


def field_of_view(text: str) -> float:
    """A lens's field of view in degrees: above 0 and below 180 (a pinhole camera sees less than a half-space)."""
    value = _number(text, allow_zero=False)
    if value >= 180.0:
        raise argparse.ArgumentTypeError(f'must be below 180 degrees, got {text}')
    return value


def parameter_range(name: str):
    """An argparse type for a number that a node parameter of this name takes: 0 to the parameter's upper bound."""
    high = BY_NAME[name].high

    def number(text: str) -> float:
        value = _number(text, allow_zero=True)
        if value > high:
            raise argparse.ArgumentTypeError(f'must be at most {high:g}, got {text}')
        return value
    return number


def topic_prefix(text: str) -> str:
    """A relative ROS name of one or more parts (vision_banana, perception/vb)."""
    from .config import NAME_TOKEN
    if not all(NAME_TOKEN.fullmatch(part) for part in text.split('/')):
        raise argparse.ArgumentTypeError(f'{text!r} is not a relative topic name (ASCII letters, digits and _, '
                                         'parts separated by /, each starting with a letter or _)')
    return text


def device_name(text: str) -> str:
    """auto, cpu, cuda or cuda:N that this machine has, checked before anything loads; auto resolved."""
    from .device import resolve_device
    try:
        return str(resolve_device(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).split(': ', 1)[-1]) from None


def precision(text: str) -> str:
    """fp32, fp16 or bf16."""
    from .device import check_precision
    try:
        check_precision(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).split(': ', 1)[-1]) from None
    return text


def add_training_precision(parser: argparse.ArgumentParser) -> None:
    """--precision of train and distill: fp32, or bf16 autocast (fp16 would need loss scaling)."""
    parser.add_argument('--precision', choices=('fp32', 'bf16'), default='fp32',
                        help='bf16: forward pass in bfloat16 autocast, on GPUs and on CPUs with AVX-512 BF16 or AMX '
                             'about 1.5 times the steps per second, losses within 0.5 %% of fp32; CPUs without bf16 '
                             'units emulate it, over 10 times slower (warned of) (default: %(default)s)')


def list_of(item):
    """A comma-separated list of `item`s, for argparse."""
    def parse(text: str) -> list:
        return [item(part) for part in text.split(',')]
    return parse


def pairing(text: str) -> str:
    """The name of a recommended expert pairing (backends.checkpoints.PAIRINGS)."""
    from .backends.checkpoints import PAIRINGS
    if text not in PAIRINGS:
        raise argparse.ArgumentTypeError(f'{text!r} is not one of {", ".join(PAIRINGS)}')
    return text


def size_wh(text: str) -> tuple[int, int]:
    """'WxH' -> (width, height)."""
    try:
        width, height = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'size must look like 320x240, got {text!r}') from None
    if width <= 0 or height <= 0:
        raise argparse.ArgumentTypeError(f'size must be positive, got {text!r}')
    return width, height


def camera_setting(text: str) -> tuple[str, float | tuple[float, float]]:
    """'NAME=VALUE' (fixed) or 'NAME=LOW:HIGH' (drawn from that range) for one camera parameter of the world."""
    from .world.presets import CAMERA_LIMITS
    name, _, value = text.partition('=')
    if name not in CAMERA_LIMITS or not value:
        raise argparse.ArgumentTypeError(f'expected NAME=VALUE or NAME=LOW:HIGH with NAME one of '
                                         f'{", ".join(CAMERA_LIMITS)}, got {text!r}')
    try:
        values = [float(part) for part in value.split(':')]
    except ValueError:
        raise argparse.ArgumentTypeError(f'{name}: expected a number or LOW:HIGH, got {value!r}') from None
    low, high = CAMERA_LIMITS[name]
    if len(values) > 2 or not all(low <= v <= high for v in values) or values != sorted(values):
        raise argparse.ArgumentTypeError(f'{name}: {value!r} must be one value or LOW:HIGH (LOW <= HIGH), within '
                                         f'{low:g}..{high:g}')
    return name, values[0] if len(values) == 1 else tuple(values)
