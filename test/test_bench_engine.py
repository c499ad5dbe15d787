"""`vision_banana bench` (engine): every backend row, with its ratio against 'unified' from the same run."""
import json

from vision_banana_ros.cli import main


def test_engine_bench_compares_weights_in_one_run(tiny_weights, tmp_path, capsys):
    from tiny_model import save_tiny
    other = save_tiny(tmp_path / 'other.safetensors', seed=1)
    assert main(['bench', '--weights', str(tiny_weights), '--compare-weights', str(other), '--no-experts',
                 '--device', 'cpu', '--batches', '1,2', '--precisions', 'fp32', '--repeats', '1',
                 '--camera', '64x48']) == 0
    rows = json.loads(capsys.readouterr().out.splitlines()[-1])['engine']
    assert {(r['backend'], r['batch']) for r in rows} == {
        (name, batch) for name in ('unified', 'unified-single', 'unified-compared') for batch in (1, 2)}
    for row in rows:
        assert row['fps'] > 0 and row['p50_ms'] > 0
        assert row['vs_unified'] == 1.0 if row['backend'] == 'unified' else row['vs_unified'] > 0
