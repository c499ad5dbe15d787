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

"""Node parameters -> a validated configuration (every error names its parameter), and the backend it asks for.
The node reads the values from its ROS parameters, `vision_banana bag process` from the same YAML file.
"""
from __future__ import annotations

from dataclasses import dataclass
import difflib
from functools import cached_property
import math
from pathlib import Path
import re
from typing import Callable

from .backends.checkpoints import resolve
from .codecs import load_palette, Palette
from .device import precision_warning, resolve_device
from .geometry import CloudOptions, RigidTransform
from .parameters import BY_NAME
from .tasks import TASKS


@dataclass(frozen=True)
class NodeConfig:
    """The parameters of `parameters.PARAMS`, one field each in the table's order, validated by `read_config`.
    Fields hold the parameter's value, parsed where a value names something: `tasks`, `cameras`,
    `cloud_drop_classes` and `ground_classes` as tuples, `palette` as the palette its file holds,
    `target_transform` as a RigidTransform (or None).
    """

    # model and engine
    backend: str
    weights: str
    segmentation_model: str
    depth_model: str
    triton_url: str
    triton_model: str
    triton_identity: str
    triton_timeout_s: float
    triton_startup_timeout_s: float
    triton_shared_memory: bool
    device: str
    precision: str
    compile: bool
    mirror_average: bool
    tasks: tuple[str, ...]
    processing_width: int
    processing_height: int
    max_batch: int
    max_wait_ms: float
    palette: Palette
    cpu_threads: int
    # inputs
    cameras: tuple[str, ...]
    transport: str
    image_qos_reliability: str
    image_qos_depth: int
    max_input_pixels: int
    camera_info_qos_reliability: str
    camera_info_qos_durability: str
    stale_timeout: float
    rectified: bool
    fallback_hfov_deg: float
    upright: bool
    upright_min_roll_deg: float
    # outputs
    publish_confidence: bool
    confidence_encoding: str
    overlay_alpha: float
    cloud_stride: int
    cloud_min_range: float
    cloud_max_range: float
    cloud_voxel_size: float
    cloud_outlier_neighbors: int
    cloud_drop_classes: tuple[int, ...]
    cloud_color_source: str
    cloud_organized: bool
    cloud_normals: bool
    target_frame: str
    target_transform: RigidTransform | None
    # navigation
    scale_lock: str
    camera_height_m: float
    ground_frame: str
    ground_classes: tuple[int, ...]
    ground_min_fraction: float
    level_floor_deg: float
    scale_smoothing: float
    obstacle_min_height: float
    obstacle_max_height: float
    grid_resolution: float
    grid_size_m: float
    grid_frame: str
    diagnostics_period: float

    @cached_property
    def cloud(self) -> CloudOptions:
        """The cloud_* parameters as the geometry core takes them."""
        return CloudOptions(stride=self.cloud_stride, min_range=self.cloud_min_range, max_range=self.cloud_max_range,
                            drop_classes=self.cloud_drop_classes, voxel_size=self.cloud_voxel_size,
                            outlier_neighbors=self.cloud_outlier_neighbors, color_source=self.cloud_color_source,
                            organized=self.cloud_organized, with_normals=self.cloud_normals)

    @property
    def clouds_need_tf(self) -> bool:
        """The clouds go out in target_frame, looked up in tf at each image stamp."""
        return bool(self.target_frame) and self.target_transform is None

    @property
    def lock_needs_tf(self) -> bool:
        """The ground lock takes the camera's mounting (height and tilt) from tf."""
        return self.scale_lock == 'ground' and self.camera_height_m == 0

    @property
    def needs_tf(self) -> bool:
        """Something looks a transform up: the clouds, the grid in grid_frame, the lock's mounting, or upright."""
        return self.clouds_need_tf or self.lock_needs_tf or bool(self.grid_frame) or self.upright


NO_TF2 = 'tf2_ros is not installed here'   # why the node cannot look transforms up where tf2_ros is missing
NAME_TOKEN = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')  # one part of a ROS 2 topic name
MAX_GRID_CELLS = 4000     # grid_size_m / grid_resolution at most


def _fail(name: str, message: str) -> ValueError:
    return ValueError(f'parameter {name}: {message}')


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _integral(value) -> bool:
    return _number(value) and math.isfinite(value) and int(value) == value


def _typed(param, value):
    """`value` as the type of `param`'s default (an integer given as 2.0 becomes 2, a real given as 7 becomes
    7.0; a list as a tuple-free list); ValueError naming the parameter when it is of another type. A parameter file
    holds any YAML; the node's typed parameters always pass.
    """
    default, name = param.default, param.name
    if default is None and value is None:
        return None
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise _fail(name, f'{value!r} is not a boolean (true or false)')
        return value
    if isinstance(default, int):
        if not _integral(value):
            raise _fail(name, f'{value!r} is not an integer')
        return int(value)
    if isinstance(default, float):
        if not _number(value):
            raise _fail(name, f'{value!r} is not a number')
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise _fail(name, f'{value!r} is not a string')
        return value
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, '__len__'):
        raise _fail(name, f'{value!r} is not a list')
    items = list(value)
    if default is None or isinstance(default[0], float):   # target_transform: double_array
        if not all(_number(v) for v in items):
            raise _fail(name, f'{items!r} is not a list of numbers')
        return [float(v) for v in items]
    if isinstance(default[0], int):
        if not all(_integral(v) for v in items):
            raise _fail(name, f'{items!r} is not a list of integers')
        return [int(v) for v in items]
    if not all(isinstance(v, str) for v in items):
        raise _fail(name, f'{items!r} is not a list of strings')
    return items


def _train_ids(values: dict, name: str, empty: bool) -> tuple[int, ...]:
    """The list parameter `name` as train ids in 0..255 (ValueError naming it otherwise; `empty`: may be empty)."""
    ids = tuple(values[name])
    if (not ids and not empty) or not all(_integral(c) and 0 <= c <= 255 for c in ids):
        raise _fail(name, f'{list(ids)} must be {"" if empty else "a non-empty list of "}train ids in 0..255')
    return tuple(int(c) for c in ids)


def read_config(get: Callable[[str], object], no_tf: str | None, running: NodeConfig | None = None) -> NodeConfig:
    """`get(name)` returns a parameter's current value; `no_tf` says why no transform can be looked up (None
    when tf can be read); `running`: the configuration in use, for a change at run time, whose files (weights,
    models, palette: read-only parameters) are not read again: moved or edited since, they would refuse an unrelated
    change or give colours the running backend does not decode. Raises ValueError naming the first bad parameter.
    """
    values = {name: _typed(param, get(name)) for name, param in BY_NAME.items()}
    for name, param in BY_NAME.items():
        value = values[name]
        if param.choices and value not in param.choices:
            raise _fail(name, f'{value!r} is not one of {", ".join(param.choices)}')
        if param.low is not None and not (param.low <= value <= param.high):
            raise _fail(name, f'{value} is outside [{param.low}, {param.high}]')
    tasks = tuple(values['tasks'])
    if not tasks or any(t not in TASKS for t in tasks) or len(set(tasks)) != len(tasks):
        raise _fail('tasks', f'{list(tasks)} must be a non-empty list of distinct {", ".join(TASKS)}')
    cameras = tuple(values['cameras'])
    if not cameras or len(set(cameras)) != len(cameras) or ('' in cameras and len(cameras) > 1):
        raise _fail('cameras', f'{list(cameras)}: give distinct namespaces, or [""] for one camera')
    for cam in cameras:
        if cam and not all(NAME_TOKEN.fullmatch(part) for part in cam.split('/')):
            raise _fail('cameras', f'{cam!r} is not a valid namespace (ASCII letters, digits and _, each part '
                                   'starting with a letter or _)')
    try:
        resolve_device(values['device'])
    except ValueError as exc:
        raise _fail('device', str(exc).removeprefix('device: ')) from None
    if values['backend'] == 'experts' and not (values['segmentation_model'] or values['depth_model']):
        raise _fail('segmentation_model', 'the experts backend needs segmentation_model and/or depth_model')
    if running is None:
        for name in ('weights', 'palette'):
            if values[name] and not Path(values[name]).exists():
                raise _fail(name, f'{values[name]} does not exist')
        for name in ('segmentation_model', 'depth_model'):
            if values[name]:
                try:
                    resolve(values[name])      # offline: a hub id must have been pulled
                except ValueError as exc:
                    raise _fail(name, str(exc)) from None
    width, height = values['processing_width'], values['processing_height']
    if (width == 0) != (height == 0) or 0 < min(width, height) < 32:
        raise _fail('processing_width', f"{width}x{height}: give both at least 32, or both 0 (the backend's own)")
    try:
        palette = running.palette if running else load_palette(values['palette'] or None)
    except ValueError as exc:
        raise _fail('palette', str(exc)) from None
    # A parameter file may hold 2.0 for an integer; the node's typed parameters never do.
    for name in ('cloud_stride', 'cloud_outlier_neighbors'):
        if not _integral(values[name]):
            raise _fail(name, f'{values[name]} is not an integer')
    drop_classes = _train_ids(values, 'cloud_drop_classes', empty=True)
    if not values['cloud_min_range'] < values['cloud_max_range']:
        raise _fail('cloud_min_range', f'{values["cloud_min_range"]} must be below cloud_max_range '
                                       f'({values["cloud_max_range"]})')
    transform = None
    if values['target_transform'] is not None:
        t = [float(v) for v in values['target_transform']]
        if len(t) != 7 or not all(math.isfinite(v) for v in t):
            raise _fail('target_transform', f'{t} must be 7 finite numbers [x, y, z, qx, qy, qz, qw]')
        try:
            transform = RigidTransform.from_translation_quaternion(t[:3], t[3:])
        except ValueError as exc:
            raise _fail('target_transform', str(exc)) from None
        if not values['target_frame']:
            raise _fail('target_transform', 'is given but target_frame is empty')
    for name in ('target_frame', 'grid_frame', 'ground_frame'):
        if values[name] != values[name].strip() or values[name].startswith('/'):
            # tf2 refuses such a frame id on every lookup, which would only show frame by frame
            raise _fail(name, f"{values[name]!r}: a tf2 frame id has no leading '/' and no spaces around it")
    ground_classes = _train_ids(values, 'ground_classes', empty=False)
    if values['grid_size_m'] / values['grid_resolution'] > MAX_GRID_CELLS:
        # each frame's grid is built and published whole: 4000 x 4000 cells is 16 MB a frame already
        raise _fail('grid_size_m', f'{values["grid_size_m"]} m at grid_resolution {values["grid_resolution"]} m is '
                                   f'more than {MAX_GRID_CELLS} cells a side: give a coarser resolution')
    if not values['obstacle_min_height'] < values['obstacle_max_height']:
        raise _fail('obstacle_min_height', f'{values["obstacle_min_height"]} must be below obstacle_max_height '
                                           f'({values["obstacle_max_height"]})')
    config = NodeConfig(**{**values, 'tasks': tasks, 'cameras': cameras, 'palette': palette,
                           'cloud_drop_classes': drop_classes, 'target_transform': transform,
                           'ground_classes': ground_classes})
    if not config.ground_frame and (config.lock_needs_tf or config.upright):
        raise _fail('ground_frame', 'is empty, and the camera mounting is read from it (scale_lock ground with '
                                    'camera_height_m 0, or upright)')
    if no_tf and config.clouds_need_tf:
        raise _fail('target_frame', f'{config.target_frame!r} needs tf, and {no_tf}: give target_transform instead')
    if no_tf and config.grid_frame:
        raise _fail('grid_frame', f'{config.grid_frame!r} needs tf, and {no_tf}: leave it empty for the grid in '
                                  'the image frame')
    if no_tf and config.lock_needs_tf:
        raise _fail('camera_height_m', f'0 takes the height from tf ({config.ground_frame}), and {no_tf}: give '
                                       'the height in metres')
    if no_tf and config.upright:
        raise _fail('upright', f'takes the camera roll from tf ({config.ground_frame}), and {no_tf}')
    return config


ROS_NODE_PARAMETERS = ('use_sim_time', 'qos_overrides', 'start_type_description_service')  # every node has them


def load_config_file(path: str | Path | None, no_tf: str | None = NO_TF2) -> NodeConfig:
    """A node parameter file, as `ros2 run ... --params-file` reads it: the `ros__parameters` of the sections for
    every node (`/**`) and for ours (`vision_banana`, in any namespace: `/front/vision_banana`, `/**/vision_banana`),
    in file order; defaults for what they leave out. rclpy's own parameters (use_sim_time, ...) are ignored.
    `no_tf` as in read_config (default: tf2_ros is missing, as for the tools that run without a node).
    """
    values = {}
    if path:
        import yaml
        path = Path(path)
        try:
            document = yaml.safe_load(path.read_text()) or {}
            sections = [v['ros__parameters'] for k, v in document.items()
                        if k == '/**' or str(k).rsplit('/', 1)[-1] == 'vision_banana']
        except (OSError, yaml.YAMLError, AttributeError, TypeError, KeyError) as exc:
            raise ValueError(f'parameter file {path}: {exc}') from None
        for section in sections:
            values.update(section)
        if unknown := unknown_parameters(values):
            raise ValueError(f'parameter file {path}: {unknown}')
    return read_config(lambda name: values.get(name, BY_NAME[name].default), no_tf)


def unknown_parameters(names) -> str:
    """What of `names` (parameters given to the node) is none of its own nor a ROS node's, each with the closest
    known name; '' when all are known.
    """
    unknown = sorted(n for n in names if n not in BY_NAME and n.split('.', 1)[0] not in ROS_NODE_PARAMETERS)
    return '; '.join(f'unknown parameter {name}' + (f' (did you mean {close[0]}?)' if (
        close := difflib.get_close_matches(name, BY_NAME, 1)) else '') for name in unknown)


def build_backend(config: NodeConfig):
    """The backend the configuration names, on its device, at its processing size."""
    from .backends.experts import ExpertsBackend
    from .backends.unified import UnifiedBackend
    size = (config.processing_height, config.processing_width) if config.processing_width else None
    device = resolve_device(config.device)
    if config.backend == 'unified':
        return UnifiedBackend(config.weights or None, device, size, config.palette, config.compile,
                              config.mirror_average)
    if config.backend == 'triton':
        from .backends.triton import TritonBackend
        from .model.served import identity
        expected = config.triton_identity or identity(config.weights or None, config.palette)
        try:
            backend = TritonBackend(config.triton_url, config.triton_model, expected, device, config.palette,
                                    config.mirror_average, config.triton_timeout_s, config.triton_shared_memory,
                                    config.triton_startup_timeout_s)
        except ValueError as exc:
            raise _fail('triton_url', f'{config.triton_url}: {exc}') from None
        if size and size != backend.processing_size:
            backend.close()
            raise _fail('processing_width', f'{size[1]}x{size[0]}: the served model takes '
                                            f'{backend.processing_size[1]}x{backend.processing_size[0]} (give 0)')
        return backend
    return ExpertsBackend(config.segmentation_model or None, config.depth_model or None, device, size,
                          config.fallback_hfov_deg, config.palette)


def size_warning(backend) -> str | None:
    """A warning when the backend runs at another size than its weights were trained at: a network trained on
    whole frames reads a pixel's viewing ray from the frame borders, so its depth and normals get worse elsewhere.
    """
    trained, size = backend.trained_size, backend.processing_size
    if trained in (None, size):
        return None
    return (f'processing_width/processing_height {size[1]}x{size[0]}: the weights were trained at '
            f'{trained[1]}x{trained[0]}; depth and normals are less accurate at other sizes')


def startup_warnings(config: NodeConfig, backend) -> list[str]:
    """What the node and `bag process` warn of when the backend is built: size_warning, a precision the device
    would emulate, and a Triton server that cannot map the shared memory.
    """
    return [w for w in (size_warning(backend), precision_warning(backend.device, config.precision),
                        getattr(backend, 'shared_memory_problem', '')) if w]


def runnable_tasks(config: NodeConfig, backend) -> tuple[str, ...]:
    """The configured tasks that `backend` answers. ValueError naming the parameter when there are none, or when
    the configuration needs one that will not run (a cloud coloured by class needs segmentation).
    """
    tasks = tuple(t for t in config.tasks if t in backend.tasks)
    if not tasks:
        raise _fail('tasks', f'{list(config.tasks)}: the {backend.name} backend answers only {list(backend.tasks)}')
    if config.cloud_color_source == 'semantic' and 'segmentation' not in tasks:
        raise _fail('cloud_color_source', f"'semantic' needs the segmentation task, and only {list(tasks)} run")
    if config.scale_lock == 'ground' and not {'segmentation', 'depth'} <= set(tasks):
        raise _fail('scale_lock', f"'ground' needs the segmentation and depth tasks, and only {list(tasks)} run")
    return tasks
