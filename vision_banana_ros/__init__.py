"""vision_banana_ros: dense perception for ROS 2 robots from one instruction-conditioned model."""

__version__ = '0.1.0'
