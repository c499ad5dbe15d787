"""Geometry without ROS: intrinsics, back-projection, normals from depth, frames, point cloud payloads, export."""
from .backprojection import backproject, depth_validity
from .cloud import CloudOptions, CloudPayload, PointFieldSpec, build_cloud
from .depth_normals import normals_from_depth
from .export import write_cloud
from .intrinsics import Intrinsics
from .transform import RigidTransform

__all__ = [
    'CloudOptions', 'CloudPayload', 'Intrinsics', 'PointFieldSpec', 'RigidTransform',
    'backproject', 'build_cloud', 'depth_validity', 'normals_from_depth', 'write_cloud',
]
