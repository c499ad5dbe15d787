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

"""The Nav2 costmap example names outputs the node publishes, with marking and clearing where they belong (Nav2
itself is not installed here), and docs/navigation.md names every navigation parameter.
"""
from pathlib import Path

import yaml

from vision_banana_ros.outputs import NAVIGATION_TOPICS, OUTPUT_TASKS
from vision_banana_ros.parameters import PARAMS

ROOT = Path(__file__).resolve().parents[1]


def test_the_costmap_example_marks_obstacles_and_clears_with_ground_points():
    params = yaml.safe_load((ROOT / 'config' / 'nav2_costmap.yaml').read_text())
    costmap = params['local_costmap']['local_costmap']['ros__parameters']
    layer = costmap['obstacle_layer']
    assert layer['plugin'] == 'nav2_costmap_2d::ObstacleLayer' and 'obstacle_layer' in costmap['plugins']
    sources = {name: layer[name] for name in layer['observation_sources'].split()}
    topics = {s['topic'].rsplit('/', 1)[-1]: s for s in sources.values()}
    assert set(topics) == {'obstacles', 'ground_points'} <= set(OUTPUT_TASKS)
    assert all(s['data_type'] == 'PointCloud2' for s in sources.values())
    assert topics['obstacles']['marking'] and not topics['obstacles']['clearing']
    assert topics['ground_points']['clearing'] and not topics['ground_points']['marking']


def test_the_navigation_page_names_its_topics_and_parameters():
    page = (ROOT / 'docs' / 'navigation.md').read_text()
    for topic in (*NAVIGATION_TOPICS, 'ground'):
        assert f'`<cam>/{topic}`' in page, topic
    start = [p.name for p in PARAMS].index('scale_lock')
    for param in PARAMS[start:-1]:          # the navigation section, up to diagnostics_period
        assert f'`{param.name}`' in page, param.name


def test_the_semantic_layer_example_asks_the_node_for_what_the_layer_reads():
    from vision_banana_ros.codecs.palette import CITYSCAPES
    from vision_banana_ros.config import load_config_file
    path = ROOT / 'config' / 'nav2_semantic_layer.yaml'
    node = load_config_file(path, no_tf=None)      # its height comes from tf, which robots have
    assert node.publish_confidence and node.confidence_encoding == 'mono8'
    assert node.cloud_stride == 1 and node.cloud_organized        # pixel-aligned with the labels
    source = yaml.safe_load(path.read_text())['local_costmap']['local_costmap']['ros__parameters'][
        'semantic_segmentation_layer']['front']
    topics = {source[k].removeprefix('/front/') for k in ('segmentation_topic', 'confidence_topic', 'pointcloud_topic')}
    assert topics == {'semantic/labels', 'semantic/confidence', 'points'} < set(OUTPUT_TASKS)
    assert source['labels_topic'] == '/front/semantic/label_info'
    for kind in source['class_types']:
        assert set(source[kind]['classes']) <= set(CITYSCAPES.names), kind
    # every class of label_info has a cost: the layer skips the pixels of a class it was not given (a train)
    named = [name for kind in source['class_types'] for name in source[kind]['classes']]
    assert sorted(named) == sorted(CITYSCAPES.names)
