"""The batched inference engine (no rclpy): frames from many cameras in, decoded results out."""
from .engine import Engine
from .frames import FrameRequest, FrameResult
from .runner import BatchRunner

__all__ = ['BatchRunner', 'Engine', 'FrameRequest', 'FrameResult']
