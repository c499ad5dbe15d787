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

"""Every node parameter in one table: name, default, range or choices, whether it may change at run time, and
what it means. The node declares them from here and docs/node.md's parameter table is checked against it
(tools/node_docs.py --check).
"""
from __future__ import annotations

from dataclasses import dataclass

from .tasks import TASKS


@dataclass(frozen=True)
class Param:
    """One node parameter: name, default, description, and whether it may change while running."""

    name: str
    default: object
    description: str
    dynamic: bool = False            # may change while running; otherwise read-only after start-up
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    unset_type: str = ''             # for a default of None: the type it takes when set ('double_array')


PARAMS = (
    # model and engine
    Param('backend', 'unified', 'inference backend (triton: the unified network served by a Triton server)',
          choices=('unified', 'experts', 'triton')),
    Param('weights', '', 'unified: safetensors weights file ("" = the embedded default model); triton: the '
          'weights the served model must have'),
    Param('segmentation_model', '', 'experts: Cityscapes segmentation checkpoint, a hub id pulled before '
          '(`vision_banana models pull`) or a local directory'),
    Param('depth_model', '', 'experts: metric depth checkpoint, a hub id pulled before or a local directory'),
    Param('triton_url', '127.0.0.1:8001', "triton: the server's gRPC address, host:port"),
    Param('triton_model', 'vision_banana', 'triton: the served model (`vision_banana serve` or a repository of '
          '`vision_banana export --format triton`)'),
    Param('triton_identity', '', "triton: the served model's expected vision_banana.identity (\"\" = the hash of "
          'weights and palette: the node decodes only answers of the model it would run itself; for served experts, '
          'the identity `vision_banana serve` prints)'),
    Param('triton_timeout_s', 5.0, "triton: longest wait for a batch's answers (all its requests together); later, "
          'its frames fail (counted) and the next tries back off up to 10 s until the server answers again',
          low=0.01, high=600.0),
    Param('triton_startup_timeout_s', 30.0, 'triton: how long configure waits for the server and its model before '
          'failing', low=0.0, high=3600.0),
    Param('triton_shared_memory', True, 'triton: pass images and answers through system shared memory when the '
          'server is on this host (localhost, 127.x)'),
    Param('device', 'auto', 'auto (CUDA when present), cpu, cuda or cuda:N'),
    Param('precision', 'fp32', 'forward-pass precision', choices=('fp32', 'fp16', 'bf16')),
    Param('compile', False, 'unified: torch.compile the network (slow first frames, faster after)'),
    Param('mirror_average', True, 'unified, triton: answer each image also mirrored left-right in the same batch and '
          'average the two answers (better labels, depth and normals for about twice the network time)'),
    Param('tasks', list(TASKS), 'tasks to run at most (outputs nobody subscribes to are skipped anyway)'),
    Param('processing_width', 0, "width images are resized to for inference, every camera's (0: the backend's own: "
          "unified, the weights' trained pixel count in each camera's aspect ratio, 320x240 at 4:3, 384x224 at "
          "16:9; each expert's processor size; warned when not the weights' trained width)", low=0, high=4096),
    Param('processing_height', 0, "height images are resized to for inference (0: the backend's own, as for the "
          "width; warned when not the weights' trained height)", low=0, high=4096),
    Param('max_batch', 4, 'most frames (one per camera) in one forward pass', dynamic=True, low=1, high=64),
    Param('max_wait_ms', 5.0, 'longest a frame waits for others to join its batch', dynamic=True, low=0.0,
          high=1000.0),
    Param('palette', '', 'segmentation palette YAML ("" = Cityscapes)'),
    Param('cpu_threads', 0, "torch intra-op threads (inference on the CPU, host-side tensor work); 0 = torch's "
          'default, one per core. Fewer leave a core to the executor thread, which otherwise loses frames before '
          'they are counted (see frames_missed_estimate)', dynamic=True, low=0, high=1024),
    # inputs
    Param('cameras', [''], 'camera namespaces, all batched together; [""] = one camera with relative topics'),
    Param('transport', 'raw', 'subscribe to <cam>/image (raw) or <cam>/image/compressed (jpeg/png)',
          choices=('raw', 'compressed')),
    Param('image_qos_reliability', 'best_effort', 'image subscription reliability (SensorDataQoS by default)',
          choices=('best_effort', 'reliable')),
    Param('image_qos_depth', 1, 'image subscription queue depth', low=1, high=100),
    Param('max_input_pixels', 33_554_432, 'images of more pixels (width x height, read from the Image message or '
          'the JPEG/PNG header before decoding) are rejected (default 32 Mi: 8K UHD fits)', dynamic=True, low=64,
          high=1_000_000_000),
    Param('camera_info_qos_reliability', 'reliable',
          'camera_info reliability (reliable matches volatile and transient-local publishers)',
          choices=('best_effort', 'reliable')),
    Param('camera_info_qos_durability', 'volatile',
          'camera_info durability (transient_local also gets a CameraInfo latched before the node started, but '
          'only from transient-local publishers)', choices=('volatile', 'transient_local')),
    Param('stale_timeout', 2.0, 'seconds without an image after which a camera that sent images is reported '
          'stale (WARN), measured on the steady clock whatever the ROS time does', dynamic=True, low=0.1,
          high=3600.0),
    Param('rectified', False, 'images are rectified: use CameraInfo P instead of K', dynamic=True),
    Param('fallback_hfov_deg', 90.0, 'horizontal field of view used until a CameraInfo arrives', dynamic=True,
          low=1.0, high=179.0),
    Param('upright', False, "show each image to the model turned upright where its camera is rolled about its "
          'optical axis by at least upright_min_roll_deg, by the mounting from tf (ground_frame -> the image frame, '
          "latest); the answers come back in the image's pixels (any backend)", dynamic=True),
    Param('upright_min_roll_deg', 15.0, 'upright: the least roll that is turned (the embedded model was taught '
          'rolls up to 12 deg; turning smaller ones costs a little accuracy)', dynamic=True, low=0.0, high=180.0),
    # outputs
    Param('publish_confidence', False, 'publish <cam>/semantic/confidence', dynamic=True),
    Param('confidence_encoding', '32FC1', 'semantic/confidence as probabilities in [0, 1] (32FC1) or 0-255 (mono8, '
          "as Nav2's semantic_segmentation_layer reads it)", dynamic=True, choices=('32FC1', 'mono8')),
    Param('overlay_alpha', 0.0, 'semantic/color: 0 = palette only, up to 1 = the camera image only',
          dynamic=True, low=0.0, high=1.0),
    Param('cloud_stride', 2, 'keep every n-th pixel in both directions', dynamic=True, low=1, high=64),
    Param('cloud_min_range', 0.1, 'metres; nearer points are dropped', dynamic=True, low=0.0, high=1000.0),
    Param('cloud_max_range', 60.0, 'metres; farther points are dropped', dynamic=True, low=0.01, high=10000.0),
    Param('cloud_voxel_size', 0.0, 'metres; voxel-grid downsampling (0 = off)', dynamic=True, low=0.0, high=10.0),
    Param('cloud_outlier_neighbors', 0, 'statistical outlier removal over n neighbours (0 = off)', dynamic=True,
          low=0, high=100),
    Param('cloud_drop_classes', [10], 'Cityscapes train ids left out of the cloud (10 = sky)', dynamic=True),
    Param('cloud_color_source', 'image', 'rgb field from the camera image or the semantic palette', dynamic=True,
          choices=('image', 'semantic', 'none')),
    Param('cloud_organized', False, 'one point per pixel (NaN where invalid) instead of valid points only',
          dynamic=True),
    Param('cloud_normals', False, 'add normal_x/y/z fields', dynamic=True),
    Param('target_frame', '', 'frame of the cloud ("" = the camera optical frame); via tf2 unless target_transform '
          'is given', dynamic=True),
    Param('target_transform', None, 'camera optical frame -> target_frame as [x, y, z, qx, qy, qz, qw]: a fixed '
          'transform used instead of tf2 (for a camera fixed to target_frame, or where tf2_ros is not installed)',
          dynamic=True, unset_type='double_array'),
    # navigation
    Param('scale_lock', 'off', "ground: rescale each frame's depth so that the camera stands at its known height "
          'above the ground under the pixels of ground_classes (the plane fitted to them, or the one tf gives; '
          'needs segmentation; publishes <cam>/ground); off: depth as the model gives it', dynamic=True,
          choices=('off', 'ground')),
    Param('camera_height_m', 0.0, "scale_lock ground: the camera's height above the ground in metres (the plane is "
          'fitted); 0 = the height and the ground tilt from tf (ground_frame -> the image frame at the image stamp; '
          'the plane is known)', dynamic=True, low=0.0, high=100.0),
    Param('ground_frame', 'base_footprint', 'scale_lock ground with camera_height_m 0, and upright: a frame on the '
          'ground, z up (REP 120 base_footprint)', dynamic=True),
    Param('ground_classes', [0, 1, 9], 'Cityscapes train ids of the ground for the scale lock (road, sidewalk, '
          'terrain); the plane is fitted to the one seen most', dynamic=True),
    Param('ground_min_fraction', 0.05, 'scale_lock ground: least share of the image that must be ground (or level '
          'floor, level_floor_deg), else the frame keeps its depth unscaled', dynamic=True, low=0.001, high=1.0),
    Param('level_floor_deg', 25.0, 'scale_lock ground with the mounting from tf: where the labelled ground does not '
          'lock, lock to the lowest level surface, the pixels whose predicted normal lies within this many degrees '
          "of the ground's up direction (indoor floors have no Cityscapes class; needs the normals task, skipped "
          'where it does not run); 0 = labelled ground only', dynamic=True, low=0.0, high=60.0),
    Param('scale_smoothing', 0.8, "scale_lock ground: weight of the past frames in the scale's running average "
          '(0 = each frame on its own)', dynamic=True, low=0.0, high=0.99),
    Param('obstacle_min_height', 0.1, 'metres above the fitted ground from which a non-ground point is an obstacle '
          '(<cam>/obstacles, grid); ground points within it are free (<cam>/ground_points)', dynamic=True, low=0.0,
          high=10.0),
    Param('obstacle_max_height', 2.0, 'metres above the fitted ground up to which a point is an obstacle (higher: '
          'overhangs the robot passes under)', dynamic=True, low=0.01, high=100.0),
    Param('grid_resolution', 0.1, '<cam>/grid: metres per cell', dynamic=True, low=0.01, high=10.0),
    Param('grid_size_m', 10.0, '<cam>/grid: metres in front of the camera, and as wide, centred on it (farther, '
          'monocular depth places cells too loosely to plan on; at most 4000 cells a side)', dynamic=True, low=1.0,
          high=500.0),
    Param('grid_frame', '', '<cam>/grid in this frame (e.g. base_footprint or odom), its origin pose moved there with '
          'tf2 at the image stamp; "" = the image frame', dynamic=True),
    Param('diagnostics_period', 1.0, 'seconds between /diagnostics messages', low=0.1, high=60.0),
)

BY_NAME = {p.name: p for p in PARAMS}
