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

"""The ROS 2 node: camera images in; labels, colour masks, depth, normals and clouds out.

`VisionBananaNode` configures and activates itself at start (`ros2 run vision_banana_ros vision_banana_node`);
`VisionBananaLifecycleNode` is managed: configure checks the parameters and loads the model, activate subscribes,
deactivate unsubscribes and frees the model (and GPU memory), cleanup drops the publishers. Both are a shell
around `core.NodeCore`.
"""
from __future__ import annotations

import sys

import rclpy
from rclpy.exceptions import NameValidationException, ParameterException
import rclpy.executors
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from rclpy.node import Node

from .core import NODE_NAME, NodeCore


class VisionBananaNode(Node):
    """Semantic segmentation, metric depth, surface normals and point clouds from camera images, batched over
    cameras; configures and activates itself (for `ros2 run`).

    Topics are relative, under each camera namespace <cam> of `cameras` (none for the default [""]).

    Subscribed topics:
      <cam>/image (sensor_msgs/Image): with transport raw; rgb8, bgr8, rgba8, bgra8, mono8, mono16, yuv422 (UYVY)
        or yuv422_yuy2
      <cam>/image/compressed (sensor_msgs/CompressedImage): with transport compressed; JPEG or PNG
      <cam>/camera_info (sensor_msgs/CameraInfo): intrinsics for depth and clouds; fallback_hfov_deg until one
        arrives

    Published topics (an output nobody subscribes to is not computed):
      <cam>/semantic/labels (sensor_msgs/Image): mono8 train ids of the palette's classes (Cityscapes by default)
      <cam>/semantic/confidence (sensor_msgs/Image): 32FC1 probability of the label (or mono8 0-255, by
        confidence_encoding), with publish_confidence
      <cam>/semantic/color (sensor_msgs/Image): rgb8 palette colours, blended with the image by overlay_alpha
      <cam>/depth (sensor_msgs/Image): 32FC1 metres along the optical axis (+inf far, NaN invalid)
      <cam>/depth/camera_info (sensor_msgs/CameraInfo): the depth image's intrinsics
      <cam>/normals (sensor_msgs/Image): rgb8 surface normals for display
      <cam>/normals/raw (sensor_msgs/Image): 32FC3 unit normals in the optical frame (NaN invalid)
      <cam>/points (sensor_msgs/PointCloud2): xyz and the fields the cloud_* parameters ask for, in the optical
        frame or target_frame
      <cam>/ground (geometry_msgs/PoseStamped): with scale_lock ground, the ground plane (fitted, or from tf) in
        the image frame: the point under the camera, z along the plane's normal, x the camera's forward on it
      <cam>/obstacles (sensor_msgs/PointCloud2): xyz and label of the points that are neither ground nor sky and
        stand between obstacle_min_height and obstacle_max_height above the ground plane (for Nav2 to mark)
      <cam>/ground_points (sensor_msgs/PointCloud2): xyz and label of the ground points (for Nav2 to clear)
      <cam>/grid (nav_msgs/OccupancyGrid): a local grid on the ground plane in front of the camera, in the image
        frame or grid_frame: obstacles occupied, ground free, the rest unknown
      /diagnostics (diagnostic_msgs/DiagnosticArray): engine and per-camera status every diagnostics_period

    Parameters (`vision_banana_ros.parameters.PARAMS` holds their ranges and choices; dynamic ones may change at
    run time, the others are read-only after start-up):
    backend (string, default 'unified'): inference backend (triton: the unified network served by a Triton server)
    weights (string, default ''): unified: safetensors weights file ("" = the embedded default model); triton: the
      weights the served model must have
    segmentation_model (string, default ''): experts: Cityscapes segmentation checkpoint, a hub id pulled before
      (`vision_banana models pull`) or a local directory
    depth_model (string, default ''): experts: metric depth checkpoint, a hub id pulled before or a local directory
    triton_url (string, default '127.0.0.1:8001'): triton: the server's gRPC address, host:port
    triton_model (string, default 'vision_banana'): triton: the served model (`vision_banana serve` or a repository
      of `vision_banana export --format triton`)
    triton_identity (string, default ''): triton: the served model's expected vision_banana.identity ("" = the hash
      of weights and palette: the node decodes only answers of the model it would run itself; for served experts,
      the identity `vision_banana serve` prints)
    triton_timeout_s (double, default 5.0): triton: longest wait for a batch's answers (all its requests
      together); later, its frames fail (counted) and the next tries back off up to 10 s until the server answers
      again
    triton_startup_timeout_s (double, default 30.0): triton: how long configure waits for the server and its model
      before failing
    triton_shared_memory (bool, default True): triton: pass images and answers through system shared memory when the
      server is on this host (localhost, 127.x)
    device (string, default 'auto'): auto (CUDA when present), cpu, cuda or cuda:N
    precision (string, default 'fp32'): forward-pass precision
    compile (bool, default False): unified: torch.compile the network (slow first frames, faster after)
    mirror_average (bool, default True): unified, triton: answer each image also mirrored left-right in the same
      batch and average the two answers (better labels, depth and normals for about twice the network time)
    tasks (string_array, default ['segmentation', 'depth', 'normals']): tasks to run at most (outputs nobody
      subscribes to are skipped anyway)
    processing_width (int, default 0): width images are resized to for inference, every camera's (0: the backend's
      own: unified, the weights' trained pixel count in each camera's aspect ratio, 320x240 at 4:3, 384x224 at
      16:9; each expert's processor size; warned when not the weights' trained width)
    processing_height (int, default 0): height images are resized to for inference (0: the backend's own, as for the
      width; warned when not the weights' trained height)
    max_batch (int, default 4, dynamic): most frames (one per camera) in one forward pass
    max_wait_ms (double, default 5.0, dynamic): longest a frame waits for others to join its batch
    palette (string, default ''): segmentation palette YAML ("" = Cityscapes)
    cpu_threads (int, default 0, dynamic): torch intra-op threads (inference on the CPU, host-side tensor work);
      0 = torch's default, one per core. Fewer leave a core to the executor thread, which otherwise loses frames
      before they are counted (see frames_missed_estimate)
    cameras (string_array, default ['']): camera namespaces, all batched together; [""] = one camera with relative
      topics
    transport (string, default 'raw'): subscribe to <cam>/image (raw) or <cam>/image/compressed (jpeg/png)
    image_qos_reliability (string, default 'best_effort'): image subscription reliability (SensorDataQoS by default)
    image_qos_depth (int, default 1): image subscription queue depth
    max_input_pixels (int, default 33554432, dynamic): images of more pixels (width x height, read from the Image
      message or the JPEG/PNG header before decoding) are rejected (default 32 Mi: 8K UHD fits)
    camera_info_qos_reliability (string, default 'reliable'): camera_info reliability (reliable matches volatile and
      transient-local publishers)
    camera_info_qos_durability (string, default 'volatile'): camera_info durability (transient_local also gets a
      CameraInfo latched before the node started, but only from transient-local publishers)
    stale_timeout (double, default 2.0, dynamic): seconds without an image after which a camera that sent images
      is reported stale (WARN), measured on the steady clock whatever the ROS time does
    rectified (bool, default False, dynamic): images are rectified: use CameraInfo P instead of K
    fallback_hfov_deg (double, default 90.0, dynamic): horizontal field of view used until a CameraInfo arrives
    upright (bool, default False, dynamic): show each image to the model turned upright where its camera is rolled
      about its optical axis by at least upright_min_roll_deg, by the mounting from tf (ground_frame -> the image
      frame, latest); the answers come back in the image's pixels (any backend)
    upright_min_roll_deg (double, default 15.0, dynamic): upright: the least roll that is turned (the embedded model
      was taught rolls up to 12 deg; turning smaller ones costs a little accuracy)
    publish_confidence (bool, default False, dynamic): publish <cam>/semantic/confidence
    confidence_encoding (string, default '32FC1', dynamic): semantic/confidence as probabilities in [0, 1] (32FC1)
      or 0-255 (mono8, as Nav2's semantic_segmentation_layer reads it)
    overlay_alpha (double, default 0.0, dynamic): semantic/color: 0 = palette only, up to 1 = the camera image only
    cloud_stride (int, default 2, dynamic): keep every n-th pixel in both directions
    cloud_min_range (double, default 0.1, dynamic): metres; nearer points are dropped
    cloud_max_range (double, default 60.0, dynamic): metres; farther points are dropped
    cloud_voxel_size (double, default 0.0, dynamic): metres; voxel-grid downsampling (0 = off)
    cloud_outlier_neighbors (int, default 0, dynamic): statistical outlier removal over n neighbours (0 = off)
    cloud_drop_classes (integer_array, default [10], dynamic): Cityscapes train ids left out of the cloud (10 = sky)
    cloud_color_source (string, default 'image', dynamic): rgb field from the camera image or the semantic palette
    cloud_organized (bool, default False, dynamic): one point per pixel (NaN where invalid) instead of valid points
      only
    cloud_normals (bool, default False, dynamic): add normal_x/y/z fields
    target_frame (string, default '', dynamic): frame of the cloud ("" = the camera optical frame); via tf2 unless
      target_transform is given
    target_transform (double_array, default None, dynamic): camera optical frame -> target_frame as [x, y, z, qx,
      qy, qz, qw]: a fixed transform used instead of tf2 (for a camera fixed to target_frame, or where tf2_ros is
      not installed)
    scale_lock (string, default 'off', dynamic): ground: rescale each frame's depth so that the camera stands at
      its known height above the ground under the pixels of ground_classes (the plane fitted to them, or the one
      tf gives; needs segmentation; publishes <cam>/ground); off: depth as the model gives it
    camera_height_m (double, default 0.0, dynamic): scale_lock ground: the camera's height above the ground in
      metres (the plane is fitted); 0 = the height and the ground tilt from tf (ground_frame -> the image frame at
      the image stamp; the plane is known)
    ground_frame (string, default 'base_footprint', dynamic): scale_lock ground with camera_height_m 0, and upright:
      a frame on the ground, z up (REP 120 base_footprint)
    ground_classes (integer_array, default [0, 1, 9], dynamic): Cityscapes train ids of the ground for the scale
      lock (road, sidewalk, terrain); the plane is fitted to the one seen most
    ground_min_fraction (double, default 0.05, dynamic): scale_lock ground: least share of the image that must be
      ground (or level floor, level_floor_deg), else the frame keeps its depth unscaled
    level_floor_deg (double, default 25.0, dynamic): scale_lock ground with the mounting from tf: where the
      labelled ground does not lock, lock to the lowest level surface, the pixels whose predicted normal lies within
      this many degrees of the ground's up direction (indoor floors have no Cityscapes class; needs the normals
      task, skipped where it does not run); 0 = labelled ground only
    scale_smoothing (double, default 0.8, dynamic): scale_lock ground: weight of the past frames in the scale's
      running average (0 = each frame on its own)
    obstacle_min_height (double, default 0.1, dynamic): metres above the fitted ground from which a non-ground
      point is an obstacle (<cam>/obstacles, grid); ground points within it are free (<cam>/ground_points)
    obstacle_max_height (double, default 2.0, dynamic): metres above the fitted ground up to which a point is an
      obstacle (higher: overhangs the robot passes under)
    grid_resolution (double, default 0.1, dynamic): <cam>/grid: metres per cell
    grid_size_m (double, default 10.0, dynamic): <cam>/grid: metres in front of the camera, and as wide, centred on
      it (farther, monocular depth places cells too loosely to plan on; at most 4000 cells a side)
    grid_frame (string, default '', dynamic): <cam>/grid in this frame (e.g. base_footprint or odom), its origin
      pose moved there with tf2 at the image stamp; "" = the image frame
    diagnostics_period (double, default 1.0): seconds between /diagnostics messages
    """

    def __init__(self, **kwargs):
        super().__init__(NODE_NAME, **kwargs)
        self.core = NodeCore(self)
        self.core.configure()
        self.core.activate()

    def destroy_node(self):
        """Stop the cameras and the engine, then destroy the node."""
        if hasattr(self, 'core'):  # not when declaring a parameter failed (rclpy still destroys the node at exit)
            self.core.deactivate()
        return super().destroy_node()


class VisionBananaLifecycleNode(LifecycleNode):
    """Managed: configure loads the model, activate subscribes, deactivate frees the model and GPU. Topics and
    parameters as `VisionBananaNode`.
    """

    def __init__(self, **kwargs):
        super().__init__(NODE_NAME, **kwargs)
        self.core = NodeCore(self)

    # rclpy turns an exception in a transition into ERROR without logging it, and ERROR skips cleanup: say why
    # here and undo what the transition had built.
    def on_configure(self, state) -> TransitionCallbackReturn:
        """Read the parameters and load the model."""
        try:
            self.core.configure()
        except Exception as exc:
            self.get_logger().error(f'configure failed: {exc}')
            self.core.cleanup()
            return TransitionCallbackReturn.FAILURE
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state) -> TransitionCallbackReturn:
        """Start the engine, publishers and subscriptions."""
        super().on_activate(state)              # the lifecycle publishers first, then the frames that use them
        try:
            self.core.activate()
        except Exception as exc:  # e.g. the model no longer loads, or the GPU is out of memory
            self.get_logger().error(f'activate failed: {exc}')
            self.core.deactivate()
            super().on_deactivate(state)
            return TransitionCallbackReturn.FAILURE
        return TransitionCallbackReturn.SUCCESS

    def on_deactivate(self, state) -> TransitionCallbackReturn:
        """Stop taking frames and publishing (a batch in flight is not published); the model is freed."""
        self.core.deactivate()
        return super().on_deactivate(state)

    def on_cleanup(self, state) -> TransitionCallbackReturn:
        """Free the engine and the model."""
        self.core.cleanup()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state) -> TransitionCallbackReturn:
        """Free the engine and the model."""
        self.core.cleanup()
        return TransitionCallbackReturn.SUCCESS


def _spin(make_node) -> int:
    rclpy.init(args=sys.argv)
    try:
        node = make_node()
    except (ValueError, ParameterException, NameValidationException) as exc:
        # bad configuration (a parameter out of range or of the wrong type, a file, a name): one clear line
        print(f'[{NODE_NAME}] configuration error: {exc}', file=sys.stderr)
        rclpy.try_shutdown()
        return 2
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        pass
    except Exception:
        # A callback running when a signal shut the context down fails on the dead context (RCLError): that is the
        # shutdown, not an error. Anything raised while the context is still up is one.
        if rclpy.ok():
            raise
    finally:
        # Stop taking frames and wait for the batch in flight (published nothing): a thread killed inside torch
        # as the interpreter exits aborts the process.
        node.core.deactivate()
        node.core.finish_inference()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


def main() -> int:
    """Entry point of `ros2 run vision_banana_ros vision_banana_node`."""
    return _spin(VisionBananaNode)


def lifecycle_main() -> int:
    """Entry point of the lifecycle node executable."""
    return _spin(VisionBananaLifecycleNode)
