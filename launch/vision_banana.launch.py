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

"""Run vision_banana on one camera (or several, via the config file's `cameras`).

    ros2 launch vision_banana_ros vision_banana.launch.py image:=/camera/image_raw camera_info:=/camera/camera_info
    ros2 launch vision_banana_ros vision_banana.launch.py use_lifecycle:=true autostart:=false
    ros2 launch vision_banana_ros vision_banana.launch.py backend:=experts segmentation_model:=<hub id or dir> \
        depth_model:=<hub id or dir>
    ros2 launch vision_banana_ros vision_banana.launch.py config:=<share>/config/triton.yaml triton_url:=gpu-box:8001

Arguments: image, camera_info (remaps for the default single camera), config (parameter file), namespace,
use_lifecycle (run the managed node), autostart (configure and activate the managed node at launch), and backend,
segmentation_model, depth_model, triton_url: node parameters that override the config file's when given.
"""
import os

from ament_index_python.packages import get_package_share_directory
import launch
from launch.actions import DeclareLaunchArgument, EmitEvent, OpaqueFunction, RegisterEventHandler
from launch.conditions import IfCondition, UnlessCondition
from launch.events import matches_action
from launch.substitutions import AndSubstitution, LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node
from launch_ros.event_handlers import OnStateTransition
from launch_ros.events.lifecycle import ChangeState
from lifecycle_msgs.msg import Transition

# Launch arguments that set the node parameter of the same name; an empty one leaves the config file's value.
PARAMETER_ARGUMENTS = ('backend', 'segmentation_model', 'depth_model', 'triton_url')


def _nodes(context):
    image = LaunchConfiguration('image')
    camera_info = LaunchConfiguration('camera_info')
    namespace = LaunchConfiguration('namespace')
    use_lifecycle = LaunchConfiguration('use_lifecycle')
    remappings = [('image', image), ('image/compressed', [image, '/compressed']), ('camera_info', camera_info)]
    given = {name: LaunchConfiguration(name).perform(context) for name in PARAMETER_ARGUMENTS}
    overrides = {name: value for name, value in given.items() if value}
    parameters = [LaunchConfiguration('config')] + ([overrides] if overrides else [])

    plain = Node(package='vision_banana_ros', executable='vision_banana_node', name='vision_banana',
                 namespace=namespace, parameters=parameters, remappings=remappings, output='screen',
                 condition=UnlessCondition(use_lifecycle))
    managed = LifecycleNode(package='vision_banana_ros', executable='vision_banana_lifecycle_node',
                            name='vision_banana', namespace=namespace, parameters=parameters, remappings=remappings,
                            output='screen', condition=IfCondition(use_lifecycle))
    start_managed = AndSubstitution(use_lifecycle, LaunchConfiguration('autostart'))
    configure = EmitEvent(event=ChangeState(lifecycle_node_matcher=matches_action(managed),
                                            transition_id=Transition.TRANSITION_CONFIGURE),
                          condition=IfCondition(start_managed))
    # Only after configuring: a deactivation by the user, or a failed activation, also ends in 'inactive' and must
    # not activate again (that would undo the user, or retry a failing model load forever).
    activate = RegisterEventHandler(OnStateTransition(
        target_lifecycle_node=managed, start_state='configuring', goal_state='inactive',
        entities=[EmitEvent(event=ChangeState(lifecycle_node_matcher=matches_action(managed),
                                              transition_id=Transition.TRANSITION_ACTIVATE))]),
        condition=IfCondition(start_managed))
    return [plain, managed, configure, activate]


def generate_launch_description():
    """The node (or its lifecycle form) with its parameters file and topic remappings."""
    share = get_package_share_directory('vision_banana_ros')
    return launch.LaunchDescription([
        DeclareLaunchArgument('image', default_value='image', description='camera image topic (raw transport)'),
        DeclareLaunchArgument('camera_info', default_value='camera_info', description='CameraInfo topic'),
        DeclareLaunchArgument('config', default_value=os.path.join(share, 'config', 'vision_banana.yaml'),
                              description='parameter file'),
        DeclareLaunchArgument('namespace', default_value='', description='namespace of the node and its topics'),
        DeclareLaunchArgument('use_lifecycle', default_value='false', description='run the managed (lifecycle) node'),
        DeclareLaunchArgument('autostart', default_value='true',
                              description='with use_lifecycle: configure and activate at launch'),
        DeclareLaunchArgument('backend', default_value='',
                              description="unified, experts or triton (empty: the config file's)"),
        DeclareLaunchArgument('segmentation_model', default_value='',
                              description='experts: segmentation checkpoint, a hub id pulled before or a directory'),
        DeclareLaunchArgument('depth_model', default_value='',
                              description='experts: metric depth checkpoint, a hub id pulled before or a directory'),
        DeclareLaunchArgument('triton_url', default_value='',
                              description="triton: the server's gRPC host:port (empty: the config file's)"),
        OpaqueFunction(function=_nodes),
    ])
