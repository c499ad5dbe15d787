"""Run vision_banana on one camera (or several, via the config file's `cameras`).

    ros2 launch vision_banana_ros vision_banana.launch.py image:=/camera/image_raw camera_info:=/camera/camera_info
    ros2 launch vision_banana_ros vision_banana.launch.py use_lifecycle:=true autostart:=false

Arguments: image, camera_info (remaps for the default single camera), config (parameter file), namespace,
use_lifecycle (run the managed node), autostart (configure and activate the managed node at launch).
"""
import os

import launch
from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, EmitEvent, RegisterEventHandler
from launch.conditions import IfCondition, UnlessCondition
from launch.events import matches_action
from launch.substitutions import AndSubstitution, LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node
from launch_ros.event_handlers import OnStateTransition
from launch_ros.events.lifecycle import ChangeState
from lifecycle_msgs.msg import Transition


def generate_launch_description():
    share = get_package_share_directory('vision_banana_ros')
    image = LaunchConfiguration('image')
    camera_info = LaunchConfiguration('camera_info')
    config = LaunchConfiguration('config')
    namespace = LaunchConfiguration('namespace')
    use_lifecycle = LaunchConfiguration('use_lifecycle')
    autostart = LaunchConfiguration('autostart')
    remappings = [('image', image), ('image/compressed', [image, '/compressed']), ('camera_info', camera_info)]

    plain = Node(package='vision_banana_ros', executable='vision_banana_node', name='vision_banana',
                 namespace=namespace, parameters=[config], remappings=remappings, output='screen',
                 condition=UnlessCondition(use_lifecycle))
    managed = LifecycleNode(package='vision_banana_ros', executable='vision_banana_lifecycle_node',
                            name='vision_banana', namespace=namespace, parameters=[config], remappings=remappings,
                            output='screen', condition=IfCondition(use_lifecycle))
    start_managed = AndSubstitution(use_lifecycle, autostart)
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

    return launch.LaunchDescription([
        DeclareLaunchArgument('image', default_value='image', description='camera image topic (raw transport)'),
        DeclareLaunchArgument('camera_info', default_value='camera_info', description='CameraInfo topic'),
        DeclareLaunchArgument('config', default_value=os.path.join(share, 'config', 'vision_banana.yaml'),
                              description='parameter file'),
        DeclareLaunchArgument('namespace', default_value='', description='namespace of the node and its topics'),
        DeclareLaunchArgument('use_lifecycle', default_value='false', description='run the managed (lifecycle) node'),
        DeclareLaunchArgument('autostart', default_value='true',
                              description='with use_lifecycle: configure and activate at launch'),
        plain, managed, configure, activate,
    ])
