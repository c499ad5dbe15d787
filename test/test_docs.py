"""The README documents every node parameter and topic, the way image_pipeline documents its nodes."""
from pathlib import Path

from vision_banana_ros.parameters import PARAMS

README = (Path(__file__).resolve().parents[1] / 'README.md').read_text()


def test_readme_starts_with_the_two_commands():
    first_screen = '\n'.join(README.splitlines()[:15])
    assert 'make demo' in first_screen and 'make test' in first_screen


def test_every_parameter_is_listed_with_its_default():
    rows = {line.split('|')[1].strip(' `'): line for line in README.splitlines() if line.startswith('| `')}
    for param in PARAMS:
        assert param.name in rows, param.name
        if isinstance(param.default, (int, float)) and not isinstance(param.default, bool):
            assert f'`{param.default}`' in rows[param.name], param.name


def test_every_topic_is_listed():
    for topic in ('semantic/labels', 'semantic/confidence', 'semantic/color', 'depth', 'depth/camera_info',
                  'normals', 'normals/raw', 'points', 'image', 'image/compressed', 'camera_info', '/diagnostics'):
        assert f'`<cam>/{topic}`' in README or f'`{topic}`' in README, topic
