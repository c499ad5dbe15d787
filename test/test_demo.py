"""`vision_banana demo` replaces only its own earlier output."""
from vision_banana_ros.cli import main


def test_demo_refuses_a_folder_that_is_not_its_output(tmp_path, capsys):
    keep = tmp_path / 'thesis.tex'
    keep.write_text('months of work')
    assert main(['demo', '--out', str(tmp_path)]) == 2
    assert 'not an earlier demo output' in capsys.readouterr().err and keep.read_text() == 'months of work'
