import os

import pytest

# DDS traffic never leaves this machine, and a domain per test session keeps parallel runs apart.
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('ROS_LOCALHOST_ONLY', '1')
os.environ.setdefault('ROS_DOMAIN_ID', str(10 + os.getpid() % 90))


@pytest.fixture(scope='session')
def tiny_weights(tmp_path_factory):
    """The tiny unified network saved as safetensors once per test session."""
    from tiny_model import save_tiny
    return save_tiny(tmp_path_factory.mktemp('weights') / 'tiny.safetensors')
