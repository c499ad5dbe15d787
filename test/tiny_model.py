"""A small random unified network for the tests of everything around the model (engine, node, bags, export)."""
import torch

from vision_banana_ros.model.network import NetworkConfig, VisionBananaNet
from vision_banana_ros.model.weights import save_network

TINY = NetworkConfig(encoder_widths=(8, 8, 16, 16, 16), encoder_blocks=(0, 1, 1, 1, 1),
                     decoder_widths=(16, 8, 8, 8), task_dim=8)


def save_tiny(path, seed: int = 0):
    torch.manual_seed(seed)
    save_network(VisionBananaNet(TINY), path)
    return path
