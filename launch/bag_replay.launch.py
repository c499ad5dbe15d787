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

"""Replay a bag into vision_banana and look at it in RViz.

    ros2 launch vision_banana_ros bag_replay.launch.py bag:=/path/to/bag image:=/camera/image_raw \
        camera_info:=/camera/camera_info

Plays the bag with /clock (`ros2 bag play --clock`), runs the node with use_sim_time so every output carries the
bag's stamps, and opens RViz with rviz/vision_banana.rviz (set rviz:=false on a headless machine). Playback starts
`delay` seconds after launch, once the node has loaded its model; transport:=compressed takes <image>/compressed.
transport, backend, segmentation_model, depth_model and triton_url set those node parameters over the config file's
when given.
"""
import os

from ament_index_python.packages import get_package_share_directory
import launch
from launch.actions import DeclareLaunchArgument, ExecuteProcess, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

# Launch arguments that set the node parameter of the same name; an empty one leaves the config file's value.
PARAMETER_ARGUMENTS = ('transport', 'backend', 'segmentation_model', 'depth_model', 'triton_url')


def _node(context):
    image = LaunchConfiguration('image')
    given = {name: LaunchConfiguration(name).perform(context) for name in PARAMETER_ARGUMENTS}
    parameters = {'use_sim_time': True}
    parameters.update({name: value for name, value in given.items() if value})
    return [Node(package='vision_banana_ros', executable='vision_banana_node', name='vision_banana',
                 parameters=[LaunchConfiguration('config'), parameters], output='screen',
                 remappings=[('image', image), ('image/compressed', [image, '/compressed']),
                             ('camera_info', LaunchConfiguration('camera_info'))])]


def generate_launch_description():
    """Replay a bag through the node, with RViz showing its outputs."""
    share = get_package_share_directory('vision_banana_ros')
    bag = LaunchConfiguration('bag')
    rate = LaunchConfiguration('rate')
    return launch.LaunchDescription([
        DeclareLaunchArgument('bag', description='rosbag2 directory or file to play'),
        DeclareLaunchArgument('rate', default_value='1.0', description='playback rate'),
        # Defaults: the topics of `vision_banana bag make-sample`.
        DeclareLaunchArgument('image', default_value='/camera/image', description='camera image topic in the bag'),
        DeclareLaunchArgument('camera_info', default_value='/camera/camera_info',
                              description='CameraInfo topic in the bag'),
        DeclareLaunchArgument('config', default_value=os.path.join(share, 'config', 'vision_banana.yaml'),
                              description='parameter file'),
        DeclareLaunchArgument('rviz', default_value='true', description='open RViz'),
        DeclareLaunchArgument('delay', default_value='5.0',
                              description='seconds between launch and playback (the node loads its model first)'),
        DeclareLaunchArgument('transport', default_value='',
                              description="raw or compressed images in the bag (empty: the config file's)"),
        DeclareLaunchArgument('backend', default_value='',
                              description="unified, experts or triton (empty: the config file's)"),
        DeclareLaunchArgument('segmentation_model', default_value='',
                              description='experts: segmentation checkpoint, a hub id pulled before or a directory'),
        DeclareLaunchArgument('depth_model', default_value='',
                              description='experts: metric depth checkpoint, a hub id pulled before or a directory'),
        DeclareLaunchArgument('triton_url', default_value='',
                              description="triton: the server's gRPC host:port (empty: the config file's)"),
        ExecuteProcess(cmd=['ros2', 'bag', 'play', bag, '--clock', '--rate', rate,
                            '--delay', LaunchConfiguration('delay')], output='screen'),
        OpaqueFunction(function=_node),
        Node(package='rviz2', executable='rviz2', name='rviz2', output='screen',
             arguments=['-d', os.path.join(share, 'rviz', 'vision_banana.rviz')],
             parameters=[{'use_sim_time': True}], condition=IfCondition(LaunchConfiguration('rviz'))),
    ])
