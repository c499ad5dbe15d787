"""Replay a bag into vision_banana and look at it in RViz.

    ros2 launch vision_banana_ros bag_replay.launch.py bag:=/path/to/bag image:=/camera/image_raw \
        camera_info:=/camera/camera_info

Plays the bag with /clock (`ros2 bag play --clock`), runs the node with use_sim_time so every output carries the
bag's stamps, and opens RViz with rviz/vision_banana.rviz (set rviz:=false on a headless machine). Playback starts
`delay` seconds after launch, once the node has loaded its model; transport:=compressed takes <image>/compressed.
"""
import os

import launch
from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, ExecuteProcess
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    share = get_package_share_directory('vision_banana_ros')
    bag = LaunchConfiguration('bag')
    rate = LaunchConfiguration('rate')
    image = LaunchConfiguration('image')
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
        DeclareLaunchArgument('transport', default_value='raw', description='raw or compressed images in the bag'),
        ExecuteProcess(cmd=['ros2', 'bag', 'play', bag, '--clock', '--rate', rate,
                            '--delay', LaunchConfiguration('delay')], output='screen'),
        Node(package='vision_banana_ros', executable='vision_banana_node', name='vision_banana',
             parameters=[LaunchConfiguration('config'),
                         {'use_sim_time': True, 'transport': LaunchConfiguration('transport')}], output='screen',
             remappings=[('image', image), ('image/compressed', [image, '/compressed']),
                         ('camera_info', LaunchConfiguration('camera_info'))]),
        Node(package='rviz2', executable='rviz2', name='rviz2', output='screen',
             arguments=['-d', os.path.join(share, 'rviz', 'vision_banana.rviz')],
             parameters=[{'use_sim_time': True}], condition=IfCondition(LaunchConfiguration('rviz'))),
    ])
