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

"""Fixtures shared by the tests: tiny weights files saved once per session."""
import os

from hypothesis import settings
import pytest

# DDS traffic never leaves this machine, and a domain per test session keeps parallel runs apart.
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('ROS_LOCALHOST_ONLY', '1')
os.environ.setdefault('ROS_DOMAIN_ID', str(10 + os.getpid() % 90))

# Property tests are judged on their answers, not their speed: a 200 ms per-example deadline fails on a loaded CI.
settings.register_profile('no_deadline', deadline=None)
settings.load_profile('no_deadline')


@pytest.fixture(scope='session')
def tiny_weights(tmp_path_factory):
    """The tiny unified network saved as safetensors once per test session."""
    from tiny_model import save_tiny
    return save_tiny(tmp_path_factory.mktemp('weights') / 'tiny.safetensors')
