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

"""`bag process` with the experts (tiny checkpoints) on bags recorded on real cameras
(../shared/data/real_bags): the mcap one as it is, the ROS 1 ones converted here with
rosbags-convert. Every colour or mono camera image (JPEG, rgb8, mono8) is answered, none rejected,
each output sized like its input; a 16UC1 depth image topic is skipped, not taken for a camera;
bags without any camera_info work (the fallback field of view).

The models run at a small processing size so that the 1280 x 960 frames stay cheap; the experts'
faithfulness at their own sizes is test_expert_families.py's.
"""

from pathlib import Path
import subprocess
import sys

import pytest
from rosbags.highlevel import AnyReader
from tiny_experts import save

from vision_banana_ros.bag.process import process_bag
from vision_banana_ros.camera_images import compressed_to_rgb, image_to_rgb

REAL = Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'real_bags'
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f'no real camera bags in {REAL}')

# bag -> (camera image topics, depth image topics), as the bags' README lists them
BAGS = {
    'raspicam_aruco_mcap': (['/raspicam_node/image/compressed'], []),
    'raspicam_aruco_ros1.bag': (['/raspicam_node/image/compressed'], []),
    'spot_raw_ros1.bag': (
        [
            '/spot/camera/hand_color/image',
            '/spot/camera/frontleft/image',
            '/spot/camera/hand_mono/image',
        ],
        ['/spot/depth/frontleft/image'],
    ),
    'spot_compressed_ros1.bag': (
        [
            f'{t}/compressed'
            for t in (
                '/spot/camera/hand_color/image',
                '/spot/camera/frontleft/image',
                '/spot/camera/hand_mono/image',
            )
        ],
        ['/spot/depth/frontleft/image/compressed'],
    ),
}


@pytest.fixture(scope='module')
def config(tmp_path_factory):
    root = tmp_path_factory.mktemp('experts')
    path = root / 'experts.yaml'
    path.write_text(
        f'/**:\n  ros__parameters:\n    backend: experts\n    device: cpu\n'
        f'    segmentation_model: {save("segformer", root / "segformer")}\n'
        f'    depth_model: {save("depth_anything", root / "depth")}\n'
        f'    processing_width: 160\n    processing_height: 120\n'
    )
    return path


def as_rosbag2(name: str, folder: Path) -> Path:
    if not name.endswith('.bag'):
        return REAL / name
    out = folder / name.removesuffix('.bag')
    converter = Path(sys.executable).with_name('rosbags-convert')
    subprocess.run(
        [
            str(converter),
            '--src',
            str(REAL / name),
            '--dst',
            str(out),
            '--dst-storage',
            'mcap',
            '--dst-typestore',
            'ros2_humble',
        ],
        check=True,
        capture_output=True,
    )
    return out


def sizes(bag: Path, topics: list[str]) -> dict[str, list[tuple[int, int]]]:
    """Topic -> (height, width) of each of its images, decoded as the node decodes them."""
    found = {topic: [] for topic in topics}
    with AnyReader([bag]) as reader:
        for connection, _, raw in reader.messages(
            [c for c in reader.connections if c.topic in found]
        ):
            msg = reader.deserialize(raw, connection.msgtype)
            if connection.topic in topics and 'semantic' not in connection.topic:
                rgb = (
                    compressed_to_rgb(msg)
                    if connection.topic.endswith('compressed')
                    else image_to_rgb(msg)
                )
                found[connection.topic].append(rgb.shape[:2])
            else:
                found[connection.topic].append((msg.height, msg.width))
    return found


def namespace(topic: str) -> str:
    return topic.removesuffix('/compressed').rsplit('/', 1)[0]


@pytest.mark.parametrize('name', BAGS)
def test_every_camera_image_is_answered_at_its_size(name, config, tmp_path, capsys):
    cameras, depth_topics = BAGS[name]
    bag = as_rosbag2(name, tmp_path)
    summary = process_bag(bag, tmp_path / 'out', config, progress=True)
    assert sorted(summary['cameras']) == sorted(cameras) and summary['skipped'] == depth_topics
    assert summary['rejected'] == 0
    inputs = sizes(bag, cameras)
    assert summary['frames'] == sum(len(v) for v in inputs.values()) > 0
    label_topics = [f'{namespace(t)}/semantic/labels' for t in cameras]
    outputs = sizes(tmp_path / 'out', label_topics)
    for camera, labels in zip(cameras, label_topics):
        assert outputs[labels] == inputs[camera], camera
    skipped = [line for line in capsys.readouterr().err.splitlines() if 'not a camera' in line]
    assert len(skipped) == len(depth_topics)
