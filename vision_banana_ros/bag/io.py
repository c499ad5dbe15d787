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

"""Opening rosbag2 files for reading (sqlite3, mcap) and writing, with errors that name the bag."""
from __future__ import annotations

from pathlib import Path

from rosbags.highlevel import AnyReader
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import get_typestore, Stores

STORAGES = {'mcap': StoragePlugin.MCAP, 'sqlite3': StoragePlugin.SQLITE3}


def open_reader(src: Path) -> AnyReader:
    """An opened reader of a rosbag2 directory or file (close it when done); ROS 1 bags are refused. Bags that
    store no message definitions (sqlite3 bags recorded on Humble) are read with Humble's.
    """
    if not src.exists():
        raise ValueError(f'bag {src} does not exist')
    try:
        reader = AnyReader([src], default_typestore=get_typestore(Stores.ROS2_HUMBLE))
        reader.open()
    except Exception as exc:  # rosbags raises its own error types for unreadable or corrupt bags
        raise ValueError(f'cannot read bag {src}: {exc}') from None
    if not reader.is2:
        reader.close()
        raise ValueError(f'bag {src} is a ROS 1 bag: convert it first with `rosbags-convert --src {src} --dst OUT`')
    return reader


def open_writer(dst: Path, storage: str = 'mcap') -> Writer:
    """A new rosbag2 at `dst`, which must not exist yet; use it as a context manager. Format version 8: Humble's
    rosbag2 reads each topic's QoS profiles as one string, which version 9 (Jazzy on) writes as a list, so a version 9
    bag does not play there; Jazzy and later read both.
    """
    if dst.exists():
        raise ValueError(f'{dst} exists already: rosbag2 writes a new directory')
    if storage not in STORAGES:
        raise ValueError(f'storage must be mcap or sqlite3, got {storage!r}')
    return Writer(dst, version=8, storage_plugin=STORAGES[storage])
