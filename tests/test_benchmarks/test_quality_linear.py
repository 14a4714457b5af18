"""The linear probe beside the protocols' kNN: scored in the run when the
protocol asks for it, or afterwards from a recorded run's final checkpoint
(``quality.py probe``), and shown in the table."""
import json
import os.path as osp
import sys

import pytest
import torch

from conftest import ROOT
from helpers import tiny_config

sys.path.append(osp.join(ROOT, 'tools', 'benchmarks'))
from quality_tool import linear  # noqa: E402
from quality_tool.probe import probe_runs  # noqa: E402
from quality_tool.protocol import load_protocol  # noqa: E402
from quality_tool.records import (append_record, quality_records,  # noqa
                                  read_records)
from quality_tool.runs import run_entry  # noqa: E402
from quality_tool.tables import render_table, summarise  # noqa: E402

from bsim_plugin.evaluation import fit_linear_probe, probe_top1  # noqa


def test_linear_settings_get_defaults_and_bad_ones_are_named():
    assert linear.check_linear('p.py', None) is None
    assert linear.check_linear('p.py', True) == linear.LINEAR_DEFAULTS
    assert linear.check_linear('p.py', dict(max_iter=50)) == dict(
        weight_decay=1e-4, max_iter=50)
    for bad, word in [(dict(iters=5), 'iters'),
                      (dict(weight_decay=-1.0), '-1.0'),
                      (dict(max_iter=0), 'max_iter'),
                      (dict(max_iter=2.5), '2.5'), ('yes', 'yes')]:
        with pytest.raises(ValueError, match=word):
            linear.check_linear('p.py', bad)


def test_linear_scores_separate_what_is_linearly_separable():
    """Two classes on either side of a plane, far apart: top-1 100 %; the
    same figure as fitting linear_probe.py's classifier by hand."""
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(200) % 2
    feats = torch.randn(200, 8, generator=g)
    feats[:, 3] += 6.0 * (2 * labels - 1)
    scores = linear.linear_scores(feats[:150], labels[:150], feats[150:],
                                  labels[150:], dict(weight_decay=1e-4,
                                                     max_iter=100),
                                  progress=False)
    assert scores['linear_top1'] == 100.0
    probe = fit_linear_probe(feats[:150], labels[:150], 2, max_iter=100)
    assert scores['linear_top1'] == round(
        probe_top1(probe, feats[150:], labels[150:]), 2)
    # One feature of noise only: far from separable.
    noise = linear.linear_scores(feats[:150, :1], labels[:150],
                                 feats[150:, :1], labels[150:],
                                 dict(weight_decay=1e-4, max_iter=100),
                                 progress=False)
    assert noise['linear_top1'] < 80.0


def _record(entry, seed, digest, knn, **extra):
    return dict(protocol='p', entry=entry, seed=seed, config_digest=digest,
                knn_top1=knn, **extra)


def test_probes_fill_only_the_runs_they_belong_to():
    records = [_record('a', 0, 'd1', 70.0), _record('a', 1, 'd1', 71.0),
               _record('a', 0, 'old', 60.0),
               _record('b', 0, 'd2', 72.0, linear_top1=80.0)]
    probes = [dict(protocol='p', entry='a', seed=0, config_digest='d1',
                   linear_top1=75.5),
              dict(protocol='p', entry='b', seed=0, config_digest='d2',
                   linear_top1=1.0, feature_spread=0.5)]
    merged = linear.with_probes(records, probes)
    # A run with its own linear probe takes the spread it lacked.
    assert merged[3]['feature_spread'] == 0.5 and merged[3]['spread_probed']
    assert 'feature_spread' not in merged[0]
    assert merged[0]['linear_top1'] == 75.5 and merged[0]['linear_probed']
    assert 'linear_top1' not in merged[1]  # another seed
    assert 'linear_top1' not in merged[2]  # another recipe
    assert merged[3]['linear_top1'] == 80.0  # its own figure wins
    assert 'linear_top1' not in records[0]  # the input is not changed


@pytest.fixture(scope='module')
def tiny_runs(tmp_path_factory, tiny_fashion_root):
    """One tiny entry run twice from the same seed: by a protocol without
    the probe, and by the same protocol with it."""
    tmp = tmp_path_factory.mktemp('tiny-linear')
    cfg = tiny_config('unused', tiny_fashion_root, max_epochs=1)
    cfg.pop('experiment_name')
    cfg.pop('work_dir')
    config = str(tmp / 'tiny.py')
    cfg.dump(config)
    protos = {}
    for name, extra in [('plain', {}),
                        ('probed', dict(linear=dict(max_iter=50)))]:
        path = tmp / f'{name}.py'
        path.write_text('protocol = ' + repr(dict(
            name='tiny-linear', dataset=dict(type='FashionMNIST',
                                             data_root=tiny_fashion_root),
            knn=dict(k=5, temperature=0.1), seeds=[0],
            entries=[dict(name='tiny', method='BSIM-SimCLR',
                          config=config)], **extra)) + '\n')
        protos[name] = load_protocol(str(path))
    runs = {name: run_entry(proto, proto['entries'][0], 0,
                            str(tmp / name), progress=False)
            for name, proto in protos.items()}
    return tmp, protos, runs


def test_a_protocol_with_linear_records_the_probe(tiny_runs):
    _, protos, runs = tiny_runs
    plain, probed = runs['plain'], runs['probed']
    assert 'linear_top1' not in plain
    assert 0 <= probed['linear_top1'] <= 100
    assert probed['linear'] == dict(weight_decay=1e-4, max_iter=50)
    # One pass of features serves both: the kNN is the plain protocol's.
    assert probed['knn_top1'] == plain['knn_top1']
    # Every run records how far its embeddings spread (0: collapsed).
    assert 0.0 < probed['feature_spread'] <= 1.0
    assert 0.0 < plain['feature_spread'] <= 1.0
    assert probed['config_digest'] == plain['config_digest']


def test_a_recorded_run_is_probed_from_its_checkpoint(tiny_runs, capsys):
    """`quality.py probe` on the run recorded without the probe gives the
    figure the run itself gives with it; it checks the kNN, skips a run whose
    checkpoint is missing, and does not probe a run twice."""
    tmp, protos, runs = tiny_runs
    results = str(tmp / 'probe-results' / 'quality.jsonl')
    append_record(results, runs['plain'])
    append_record(results, dict(runs['plain'], seed=1))  # no checkpoint
    new = probe_runs(protos['probed'], results, str(tmp / 'plain'))
    assert len(new) == 1
    probe = new[0]
    assert (probe['entry'], probe['seed']) == ('tiny', 0)
    assert probe['knn_top1'] == runs['plain']['knn_top1']
    assert probe['linear_top1'] == runs['probed']['linear_top1']
    out = capsys.readouterr().out
    assert 'seed 1: its final checkpoint is not in' in out
    stored = read_records(linear.probe_file(results))
    assert [json.dumps(r, sort_keys=True) for r in stored] == [
        json.dumps(probe, sort_keys=True)]
    assert probe_runs(protos['probed'], results, str(tmp / 'plain')) == []
    # The tables' records carry it, and the table shows it in its column.
    merged = quality_records(results)
    assert merged[0]['linear_top1'] == probe['linear_top1']
    assert 'linear_top1' not in merged[1]
    rows = summarise(merged, protos['probed'], None)
    table = render_table(protos['probed'], rows)
    assert '| linear probe top-1 (%) |' in table
    row = [ln for ln in table.splitlines() if ln.startswith('| [BSIM')][0]
    assert f' {probe["linear_top1"]:.2f} (1 of 2 seeds) |' in row
    # Without the protocol's setting there is nothing to probe with.
    with pytest.raises(ValueError, match='no `linear` setting'):
        probe_runs(protos['plain'], results, str(tmp / 'plain'))


def test_a_run_recorded_before_the_spread_is_probed_for_it(tiny_runs):
    """A run with its linear probe but no feature spread (recorded before
    runs recorded it) gets the spread from its checkpoint, once."""
    tmp, protos, runs = tiny_runs
    results = str(tmp / 'spread' / 'quality.jsonl')
    old = {k: v for k, v in runs['probed'].items() if k != 'feature_spread'}
    append_record(results, old)
    new = probe_runs(protos['probed'], results, str(tmp / 'probed'))
    assert len(new) == 1
    assert new[0]['feature_spread'] == runs['probed']['feature_spread']
    merged = quality_records(results)[0]
    assert merged['feature_spread'] == runs['probed']['feature_spread']
    assert merged['linear_top1'] == runs['probed']['linear_top1']
    assert probe_runs(protos['probed'], results, str(tmp / 'probed')) == []


def test_a_probe_of_another_checkpoint_is_refused(tiny_runs):
    """A checkpoint whose kNN is not the recorded one is not the run's."""
    tmp, protos, runs = tiny_runs
    results = str(tmp / 'wrong' / 'quality.jsonl')
    append_record(results, dict(runs['plain'], knn_top1=runs['plain'][
        'knn_top1'] + 5.0))
    with pytest.raises(RuntimeError, match='not the recorded'):
        probe_runs(protos['probed'], results, str(tmp / 'plain'))
    assert not osp.exists(linear.probe_file(results))
