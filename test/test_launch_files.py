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

"""launch/, config/ and rviz/ cannot run here (no launch_ros, no rviz2): check what can be checked statically."""
import ast
import importlib.util
from pathlib import Path
import re
import sys
import types

import pytest
import yaml

from vision_banana_ros.parameters import BY_NAME, PARAMS

ROOT = Path(__file__).resolve().parents[1]
NODE_OUTPUTS = ('semantic/labels', 'semantic/confidence', 'semantic/color', 'depth', 'depth/camera_info', 'normals',
                'normals/raw', 'points', 'ground', 'obstacles', 'ground_points', 'grid')


def console_scripts():
    return set(re.findall(r"'(\w+) = vision_banana_ros", (ROOT / 'setup.py').read_text()))


@pytest.mark.parametrize('name', ['vision_banana.launch.py', 'bag_replay.launch.py'])
def test_launch_files_parse_and_name_what_exists(name):
    source = (ROOT / 'launch' / name).read_text()
    tree = ast.parse(source)
    assert any(isinstance(n, ast.FunctionDef) and n.name == 'generate_launch_description' for n in tree.body)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    keywords = {(k.arg, k.value.value) for c in calls for k in c.keywords if isinstance(k.value, ast.Constant)}
    ours = {value for key, value in keywords if key == 'executable'} - {'rviz2'}
    assert ours and ours <= console_scripts()
    assert ('package', 'vision_banana_ros') in keywords and ('name', 'vision_banana') in keywords
    for folder, filename in re.findall(r"os\.path\.join\(share, '(\w+)', '([\w.]+)'\)", source):
        assert (ROOT / folder / filename).is_file(), f'{name} names {folder}/{filename}'
    # remapped node inputs are the node's relative input names
    remapped = set(re.findall(r"\('([^']+)', (?:image|camera_info|\[image|LaunchConfiguration)", source))
    assert remapped == {'image', 'camera_info', 'image/compressed'}


@pytest.mark.parametrize('name', ['vision_banana.launch.py', 'bag_replay.launch.py'])
def test_launch_arguments_named_after_node_parameters_leave_the_config_files_value(name):
    """An argument that sets a node parameter is passed only when given (empty by default): a default value would
    override the `config:=` file's (transport: compressed there was replaced by raw).
    """
    tree = ast.parse((ROOT / 'launch' / name).read_text())
    passed = next(ast.literal_eval(n.value) for n in tree.body
                  if isinstance(n, ast.Assign) and n.targets[0].id == 'PARAMETER_ARGUMENTS')
    declarations = [c for c in ast.walk(tree) if isinstance(c, ast.Call)
                    and getattr(c.func, 'id', '') == 'DeclareLaunchArgument']
    declared = {c.args[0].value: next((getattr(k.value, 'value', None) for k in c.keywords if k.arg == 'default_value'),
                                      None) for c in declarations}
    parameters = {n for n in declared if n in BY_NAME}
    assert parameters and parameters == set(passed)
    assert all(declared[n] == '' for n in parameters)


def test_every_code_folder_is_an_installed_package():
    """`colcon build` and `pip install .` install what find_packages finds: a folder of modules without an
    __init__.py would be left out, and the installed node would fail on import.
    """
    from setuptools import find_packages
    folders = {str(p.parent.relative_to(ROOT)).replace('/', '.') for p in (ROOT / 'vision_banana_ros').rglob('*.py')}
    assert folders <= set(find_packages(str(ROOT), exclude=['test', 'test.*']))


def test_setup_installs_launch_config_rviz():
    setup = (ROOT / 'setup.py').read_text()
    for folder in ('launch', 'config', 'rviz'):
        assert f"/{folder}'" in setup
    assert {'vision_banana', 'vision_banana_node', 'vision_banana_lifecycle_node'} <= console_scripts()


def test_config_file_sets_only_real_parameters_with_valid_values():
    params = yaml.safe_load((ROOT / 'config' / 'vision_banana.yaml').read_text())['/**']['ros__parameters']
    assert set(params) <= set(BY_NAME)
    assert set(BY_NAME) - set(params) <= {p.name for p in PARAMS if p.default is None}
    for name, value in params.items():
        assert type(value) is type(BY_NAME[name].default), name   # rclpy refuses 5 for a double
        assert value == BY_NAME[name].default, name


def test_rviz_config_shows_node_outputs_in_the_camera_frame():
    rviz = yaml.safe_load((ROOT / 'rviz' / 'vision_banana.rviz').read_text())
    displays = rviz['Visualization Manager']['Displays']
    topics = {d['Topic']['Value'] for d in displays if 'Topic' in d}
    assert topics == {'points', 'semantic/color', 'depth', 'normals', 'obstacles', 'grid'} <= set(NODE_OUTPUTS)
    enabled = {d['Topic']['Value'] for d in displays if 'Topic' in d and d['Enabled']}
    assert enabled == {'points', 'semantic/color', 'depth', 'normals'}     # the navigation ones cost a plane fit
    assert next(d for d in displays if d['Class'].endswith('/Map'))['Topic']['Value'] == 'grid'
    cloud = next(d for d in displays if d['Class'].endswith('PointCloud2'))
    assert cloud['Color Transformer'] == 'RGB8'
    assert rviz['Visualization Manager']['Global Options']['Fixed Frame'].endswith('optical_frame')


def test_node_outputs_match_this_list():
    from vision_banana_ros.outputs import OUTPUT_TASKS
    messages = pytest.importorskip('vision_banana_ros.ros.messages')
    assert tuple(OUTPUT_TASKS) == tuple(messages.OUTPUT_TYPES) == NODE_OUTPUTS


def test_the_node_class_lists_its_topics_and_every_parameter_with_its_default():
    node = pytest.importorskip('vision_banana_ros.ros.node')
    doc = node.VisionBananaNode.__doc__
    for topic, msg_type in pytest.importorskip('vision_banana_ros.ros.messages').OUTPUT_TYPES.items():
        assert f'<cam>/{topic} ({msg_type.__module__.split(".")[0]}/{msg_type.__name__})' in doc, topic
    for param in PARAMS:
        assert re.search(rf'^    {param.name} \(\w+, default {re.escape(repr(param.default))}'
                         rf'{", dynamic" if param.dynamic else ""}\)', doc, re.M), param.name


def _launch_arguments(name: str) -> dict:
    tree = ast.parse((ROOT / 'launch' / name).read_text())
    return {c.args[0].value: next((getattr(k.value, 'value', None) for k in c.keywords if k.arg == 'default_value'),
                                  None)
            for c in ast.walk(tree) if isinstance(c, ast.Call) and getattr(c.func, 'id', '') == 'DeclareLaunchArgument'}


def test_bag_replay_defaults_to_the_sample_bag_topics():
    from vision_banana_ros.bag.sample import NAMESPACE
    arguments = _launch_arguments('bag_replay.launch.py')
    assert (arguments['image'], arguments['camera_info']) == (f'{NAMESPACE}/image', f'{NAMESPACE}/camera_info')


def test_autostart_activates_only_after_configuring():
    """A user's deactivate and a failed activate also end in 'inactive': they must not trigger activation."""
    tree = ast.parse((ROOT / 'launch' / 'vision_banana.launch.py').read_text())
    handler = next(c for c in ast.walk(tree) if isinstance(c, ast.Call) and getattr(c.func, 'id', '') ==
                   'OnStateTransition')
    states = {k.arg: k.value.value for k in handler.keywords if isinstance(k.value, ast.Constant)}
    assert states == {'start_state': 'configuring', 'goal_state': 'inactive'}


class _Recorded:
    """Stands in for a launch or launch_ros class: keeps what it was given."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


class _Configuration(_Recorded):
    """LaunchConfiguration: `perform` reads the launch context (here a dict of argument values)."""

    def perform(self, context):
        return context[self.args[0]]


def _fake_module(name):
    module = types.ModuleType(name)
    module.__path__ = []
    module.__getattr__ = lambda attribute: (_Configuration if attribute == 'LaunchConfiguration' else
                                            type(attribute, (_Recorded,), {}))
    return module


def run_launch_file(name: str, arguments: dict, monkeypatch) -> list:
    """Evaluate launch/<name> as `ros2 launch ... a:=b` would, with recording stand-ins for launch and launch_ros
    (not installed here). Returns the Node and LifecycleNode actions it makes, after its OpaqueFunctions ran.
    """
    for module in ('launch', 'launch.actions', 'launch.conditions', 'launch.events', 'launch.substitutions',
                   'launch_ros', 'launch_ros.actions', 'launch_ros.event_handlers', 'launch_ros.events',
                   'launch_ros.events.lifecycle'):
        monkeypatch.setitem(sys.modules, module, _fake_module(module))
    import ament_index_python.packages
    monkeypatch.setattr(ament_index_python.packages, 'get_package_share_directory',
                        lambda package: f'/ws/install/{package}/share/{package}')
    spec = importlib.util.spec_from_file_location(name.replace('.', '_'), ROOT / 'launch' / name)
    source = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(source)
    actions = source.generate_launch_description().args[0]
    declared = {a.args[0]: a.kwargs.get('default_value') for a in actions
                if type(a).__name__ == 'DeclareLaunchArgument'}
    assert set(arguments) <= set(declared), f'{name} declares no {set(arguments) - set(declared)}'
    context = {**declared, **arguments}
    for action in [a for a in actions if type(a).__name__ == 'OpaqueFunction']:
        actions += action.kwargs['function'](context)
    return [a for a in actions if type(a).__name__ in ('Node', 'LifecycleNode') and
            a.kwargs['package'] == 'vision_banana_ros']


def _parameter_overrides(node) -> dict:
    config, *rest = node.kwargs['parameters']
    assert isinstance(config, _Configuration) and config.args == ('config',)
    return {k: v for d in rest for k, v in d.items()
            if k in ('backend', 'segmentation_model', 'depth_model', 'triton_url')}


@pytest.mark.parametrize('name', ['vision_banana.launch.py', 'bag_replay.launch.py'])
def test_backend_and_model_arguments_reach_the_node_only_when_given(name, monkeypatch):
    given = {'backend': 'experts', 'segmentation_model': 'nvidia/segformer-b0-finetuned-cityscapes-1024-1024',
             'depth_model': '/data/depth_checkpoint', 'triton_url': 'gpu-server:8001'}
    required = {'bag': 'my_bag'} if name == 'bag_replay.launch.py' else {}
    nodes = run_launch_file(name, {**required, **given}, monkeypatch)
    assert nodes and all(_parameter_overrides(node) == given for node in nodes)
    # not given: the config file's values stand (an empty backend would be refused by the node)
    nodes = run_launch_file(name, {**required, 'config': '/x/experts_fast.yaml'}, monkeypatch)
    assert nodes and all(_parameter_overrides(node) == {} for node in nodes)
    assert {node.kwargs['executable'] for node in nodes} <= console_scripts()
