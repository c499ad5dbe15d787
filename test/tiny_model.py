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

"""A small random unified network for the tests of everything around the model (engine, node, bags, export)."""
import torch

from vision_banana_ros.model.network import NetworkConfig, VisionBananaNet
from vision_banana_ros.model.weights import save_network

TINY = NetworkConfig(encoder_widths=(8, 8, 16, 16, 16), encoder_blocks=(0, 1, 1, 1, 1),
                     decoder_widths=(16, 8, 8, 8), task_dim=8)


def save_tiny(path, seed: int = 0):
    """Save a freshly initialised TINY network (seeded) to `path` and return the path."""
    torch.manual_seed(seed)
    save_network(VisionBananaNet(TINY), path)
    return path
