"""The tools that measure a README figure append its record themselves:
timed.py (the Measured table), mine_pairs.py --record (SePP's mining),
extract_backbone_weights.py and linear_probe.py --record (the transfer
chain); the records render into their blocks. No mining, training or
conversion is run: the record helpers are called directly."""
import json
import os.path as osp
import subprocess
import sys
from collections import Counter
from types import SimpleNamespace

import pytest
import torch

from conftest import ROOT

sys.path.append(osp.join(ROOT, 'tools', 'benchmarks'))
import quality_tool as quality  # noqa: E402
from quality_tool.figures_runs import (CHAIN_FILE, MEASURED_FILE,  # noqa
                                       MEASURED_NAMES)
from quality_tool.figures_sepp import SEPP_FILE  # noqa: E402

TIMED = osp.join(ROOT, 'tools', 'benchmarks', 'timed.py')


def tool(*parts):
    """Import a tool script by its folder and module name."""
    folder = osp.join(ROOT, 'tools', *parts[:-1])
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return __import__(parts[-1])


def test_timed_propagates_the_status_and_appends_the_record(tmp_path):
    results = tmp_path / 'results' / MEASURED_FILE
    # -S: no site-packages, so timed.py runs before any environment exists.
    command = [sys.executable, '-S', TIMED, 'probe', '--note', 'a note',
               '--results', str(results), '--', sys.executable, '-c',
               'import sys; print("out"); sys.exit(3)']
    proc = subprocess.run(command, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == 'out\n'  # the command's output streams through
    assert 'exit status 3' in proc.stderr
    record, = [json.loads(ln) for ln in results.read_text().splitlines()]
    assert record['name'] == 'probe' and record['rc'] == 3
    assert record['note'] == 'a note' and record['wall_s'] >= 0
    assert record['command'].endswith("-c 'import sys; print(\"out\"); "
                                      "sys.exit(3)'")
    assert record['device'].startswith('CPU: ') and record['date']
    text = quality.render_measured(str(results.parent))
    assert '(**failed**: exit status 3) | a note |' in text
    # A second run of the name is appended; the table shows the latest.
    subprocess.run(command[:-1] + ['pass'], check=True, timeout=120)
    assert len(results.read_text().splitlines()) == 2
    assert 'failed' not in quality.render_measured(str(results.parent))


@pytest.mark.parametrize('argv,message', [
    (['tests'], 'after "--"'),
    (['tests', '--'], 'no command'),
    (['two words', '--', 'true'], 'use letters'),
])
def test_timed_refuses_what_it_cannot_time(tmp_path, argv, message):
    proc = subprocess.run([sys.executable, '-S', TIMED] + argv,
                          capture_output=True, text=True, timeout=120,
                          cwd=str(tmp_path))
    assert proc.returncode == 2 and message in proc.stderr
    assert not (tmp_path / MEASURED_FILE).exists()


def test_timed_knows_the_rows_the_renderer_orders():
    timed = tool('benchmarks', 'timed')
    assert timed.KNOWN == tuple(MEASURED_NAMES)


def test_mine_pairs_record(tmp_path):
    mine_pairs = tool('sepp', 'mine_pairs')
    meta = dict(
        k=5, threshold=None, mutual=True, source='online', backend='auto',
        checkpoint='work_dirs/m/epoch_2.pth', checkpoint_sha256='ab' * 32,
        config='c.py', embedding=dict(dim=512, pipeline=[]),
        dataset=dict(length=30000, fingerprint='f' * 64, type='FashionMNIST',
                     data_root='data/', indices=None),
        report=dict(pairs=74886, images=30000, images_covered=26490,
                    coverage=0.883, purity=0.7694, embed_s=59.2,
                    search_s=15.1, total_s=74.6, peak_rss_mib=1184),
        created='2026-12-01 10:00:00')
    results = str(tmp_path / SEPP_FILE)
    args = SimpleNamespace(device='cpu', max_mib=128,
                           note='seed 0, kNN 71.66 %', checkpoint_note=None)
    mine_pairs.append_record(results, meta, args, 'torch')
    record, = quality.read_records(results)
    assert record['report'] == meta['report'] and record['k'] == 5
    assert record['backend'] == 'auto' and record['backend_used'] == 'torch'
    assert record['checkpoint_sha256'] == 'ab' * 32
    assert record['device'].startswith('CPU: ') and record['date']
    text = quality.render_sepp_mining(str(tmp_path))
    assert text.startswith('The miner on Fashion-MNIST with '
                           '`work_dirs/m/epoch_2.pth`, measured on CPU: ')
    assert ('| 30,000 | 5 | mutual | torch (128 MiB blocks) | 74,886 | '
            '88.3 % | 76.9 % | 59 / 15 / 75 s | 1,184 MiB |') in text
    assert text.endswith('\n\nseed 0, kNN 71.66 %')
    # The pure part: the same record from the same inputs.
    assert quality.mining_record(meta, record['date'], record['device'],
                                 128, 'torch', args.note) == record
    # --checkpoint-note names the checkpoint in the table instead of its path.
    args.checkpoint_note = 'the MoCo v2 checkpoint (seed 0, 2 epochs)'
    named = str(tmp_path / 'named' / SEPP_FILE)
    mine_pairs.append_record(named, meta, args, 'torch')
    assert quality.read_records(named)[0]['checkpoint_note'] == \
        args.checkpoint_note
    assert quality.render_sepp_mining(str(tmp_path / 'named')).startswith(
        'The miner on Fashion-MNIST with the MoCo v2 checkpoint (seed 0, 2 '
        'epochs), measured on CPU: ')


def test_chain_records_of_the_converter_and_the_probe(tmp_path):
    convert = tool('model_converters', 'extract_backbone_weights')
    probe = tool('benchmarks', 'classification', 'linear_probe')
    results = str(tmp_path / CHAIN_FILE)
    backbone = {'conv1.weight': torch.zeros(4, 1, 3, 3),
                'bn1.weight': torch.ones(4),
                'bn1.running_mean': torch.zeros(4),
                'bn1.num_batches_tracked': torch.tensor(0)}
    args = SimpleNamespace(checkpoint='epoch_2.pth', output='backbone.pth',
                           source='online')
    convert.record_conversion(results, args, backbone,
                              Counter(neck=12, head=2), 1.26)
    probe.record_probe(results, dict(
        config='c.py', checkpoint='backbone.pth', source='online',
        train=60000, test=10000, dim=512, weight_decay=1e-4, max_iter=300,
        iterations=87, train_top1=85.12, linear_top1=80.07, extract_s=600.4,
        fit_s=396.0), 'cpu')
    conversion, linear = quality.read_records(results)
    assert conversion['kept'] == 4 and conversion['parameters'] == 40
    assert conversion['dropped'] == {'neck': 12, 'head': 2}
    assert linear['wall_s'] == 996.4 and linear['linear_top1'] == 80.07
    lines = quality.render_transfer_chain(str(tmp_path)).splitlines()
    assert lines[4] == ('| conversion (`extract_backbone_weights.py`) | 4 '
                        'backbone tensors kept (0.00 M parameters), '
                        'dropped: head (2), neck (12) | 1.3 s |')
    assert lines[5] == ('| linear probe (`linear_probe.py`: frozen features, '
                        'L-BFGS) | top-1 **80.07 %** on the test split '
                        '(train 85.12 %; 512-d features, 87 L-BFGS '
                        'iterations) | 16.6 min |')
