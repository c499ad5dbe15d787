"""Metrics (mIoU, depth delta/AbsRel/RMSE, normal angles) and dataset evaluation; no rclpy."""
from .metrics import DepthMetrics, NormalMetrics, SegmentationMetrics

__all__ = ['DepthMetrics', 'NormalMetrics', 'SegmentationMetrics']
