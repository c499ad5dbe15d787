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

"""ament_python package: `colcon build` on a robot, `pip install -e .` in the project's venv."""
from glob import glob

from setuptools import find_packages, setup

PACKAGE = 'vision_banana_ros'

setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    package_data={PACKAGE: ['weights/*.safetensors', 'weights/*.md', 'model/*.yaml']},
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{PACKAGE}']),
        (f'share/{PACKAGE}', ['package.xml']),
        (f'share/{PACKAGE}/launch', glob('launch/*.py')),
        (f'share/{PACKAGE}/config', glob('config/*.yaml')),
        (f'share/{PACKAGE}/config/palettes', glob('config/palettes/*.yaml')),
        (f'share/{PACKAGE}/rviz', glob('rviz/*.rviz')),
    ],
    install_requires=['setuptools'],
    zip_safe=False,
    maintainer='vision_banana_ros maintainers',
    maintainer_email='maintainers@vision-banana-ros.invalid',
    description='One instruction-conditioned model for semantic segmentation, metric depth, surface normals '
                'and labelled point clouds from monocular cameras, batched on the GPU.',
    license='Apache-2.0',
    tests_require=['pytest'],
    entry_points={
        'console_scripts': [
            'vision_banana = vision_banana_ros.cli:main',
            'vision_banana_node = vision_banana_ros.ros.node:main',
            'vision_banana_lifecycle_node = vision_banana_ros.ros.node:lifecycle_main',
        ],
    },
)
