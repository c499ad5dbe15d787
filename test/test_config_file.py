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

"""Parameter files for the offline tools (`bag process --config`): read as the node would read them."""
import dataclasses
from pathlib import Path

import pytest
from tiny_model import TINY

from vision_banana_ros.backends.unified import DEFAULT_PROCESSING_SIZE, UnifiedBackend
from vision_banana_ros.config import build_backend, load_config_file, NodeConfig, size_warning
from vision_banana_ros.model.network import VisionBananaNet
from vision_banana_ros.model.weights import save_network, trained_size
from vision_banana_ros.parameters import BY_NAME, PARAMS

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_parameter_file_gives_the_defaults():
    config = load_config_file(ROOT / 'config' / 'vision_banana.yaml')
    assert config == load_config_file(None)
    assert config.max_batch == BY_NAME['max_batch'].default


def test_the_configuration_has_one_field_per_parameter_in_the_table_order():
    assert [f.name for f in dataclasses.fields(NodeConfig)] == [p.name for p in PARAMS]


@pytest.mark.parametrize('lines, named', [
    ('    cloud_stride: 2.5\n', 'cloud_stride: 2.5 is not an integer'),
    ('    cloud_outlier_neighbors: 1.5\n', 'cloud_outlier_neighbors: 1.5 is not an integer'),
    ('    cloud_drop_classes: [10, 300]\n', 'cloud_drop_classes: '),
    ('    cloud_min_range: 50.0\n    cloud_max_range: 10.0\n', 'cloud_min_range: 50.0 must be below cloud_max_range'),
    ('    device: tpu\n', "device: 'tpu' is not one of"),
    ('    precision: fp8\n', "precision: 'fp8' is not one of"),
    ('    target_frame: /odom\n', "target_frame: '/odom': a tf2 frame id has no leading '/'"),
    ('    grid_frame: "odom "\n', "grid_frame: 'odom ': a tf2 frame id"),
    ('    scale_lock: ground\n    ground_frame: ""\n', 'ground_frame: is empty, and the camera mounting'),
    ('    upright: true\n    ground_frame: ""\n', 'ground_frame: is empty'),
    ('    grid_size_m: 500.0\n    grid_resolution: 0.01\n', 'grid_size_m: 500.0 m at grid_resolution 0.01 m is more '
     'than 4000 cells a side'),      # 2.5 billion cells a frame
])
def test_each_bad_value_is_an_error_naming_its_parameter(tmp_path, lines, named):
    path = tmp_path / 'params.yaml'
    path.write_text(f'/**:\n  ros__parameters:\n{lines}')
    with pytest.raises(ValueError, match=f'^parameter {named}'):
        load_config_file(path)


def test_the_node_processes_at_the_size_the_embedded_model_was_trained_at():
    assert (BY_NAME['processing_height'].default, BY_NAME['processing_width'].default) == (0, 0)
    assert build_backend(load_config_file(None)).processing_size == trained_size()


@pytest.mark.parametrize('width, height', [(0, 240), (320, 0), (16, 16)])
def test_a_processing_size_is_both_sides_at_least_32_or_both_zero(tmp_path, width, height):
    path = tmp_path / 'params.yaml'
    path.write_text(f'/**:\n  ros__parameters:\n    processing_width: {width}\n    processing_height: {height}\n')
    with pytest.raises(ValueError, match='parameter processing_width: .*both 0'):
        load_config_file(path)


def test_the_weights_set_the_processing_size_and_another_one_is_warned_about(tmp_path):
    net = VisionBananaNet(TINY)
    save_network(net, tmp_path / 'sized.safetensors', trained_size=(64, 96))
    save_network(net, tmp_path / 'other.safetensors', trained_size=(32, 64))
    save_network(net, tmp_path / 'older.safetensors')
    sized = UnifiedBackend(tmp_path / 'sized.safetensors')
    assert sized.processing_size == sized.trained_size == (64, 96) and size_warning(sized) is None
    smaller = UnifiedBackend(tmp_path / 'sized.safetensors', processing_size=(32, 64))
    assert smaller.processing_size == (32, 64)
    assert size_warning(smaller).startswith('processing_width/processing_height 64x32: the weights were trained at '
                                            '96x64;')
    # Unknown (an older file) or not one size (networks trained apart): the default size, and nothing to warn of.
    for weights in ([tmp_path / 'older.safetensors'], [tmp_path / 'sized.safetensors', tmp_path / 'other.safetensors']):
        backend = UnifiedBackend(weights)
        assert backend.trained_size is None and backend.processing_size == DEFAULT_PROCESSING_SIZE
        assert size_warning(backend) is None


def test_mirror_average_is_on_unless_the_parameter_file_turns_it_off(tmp_path, tiny_weights):
    path = tmp_path / 'params.yaml'
    for line, expected in (('', True), ('    mirror_average: false\n', False)):
        path.write_text(f'/**:\n  ros__parameters:\n    weights: {tiny_weights}\n    device: cpu\n{line}')
        assert build_backend(load_config_file(path)).mirror_average is expected


def test_sections_for_our_node_in_any_namespace_count_and_rclpy_parameters_are_ignored(tmp_path):
    path = tmp_path / 'params.yaml'
    path.write_text('/**:\n  ros__parameters:\n    use_sim_time: true\n    max_batch: 2\n'
                    '/front/vision_banana:\n  ros__parameters:\n    max_batch: 3\n    cloud_stride: 4\n'
                    'other_node:\n  ros__parameters:\n    anything: 1\n')
    config = load_config_file(path)
    assert config.max_batch == 3 and config.cloud_stride == 4 and config.cloud.stride == 4


@pytest.mark.parametrize('text, message', [
    ('/**:\n  ros__parameters:\n    max_bach: 2\n', r'unknown parameter max_bach \(did you mean max_batch\?\)'),
    ('/**:\n  ros__parameters: [1\n', 'params.yaml'),
    ('/**:\n  max_batch: 2\n', 'ros__parameters'),
    ('- just\n- a list\n', 'params.yaml'),
])
def test_a_bad_parameter_file_is_one_error_naming_it(tmp_path, text, message):
    path = tmp_path / 'params.yaml'
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        load_config_file(path)
    assert str(path) in str(error.value)
