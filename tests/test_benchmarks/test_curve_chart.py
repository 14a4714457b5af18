"""The long protocol's curve charts: one per base and its methods, the mean
curve over seeds placed in the base's epochs."""
import os.path as osp
import sys

from conftest import ROOT

sys.path.append(osp.join(ROOT, 'tools', 'benchmarks'))
from quality_tool.curve_chart import (families, mean_curve,  # noqa: E402
                                      render_curve_charts)
from quality_tool.tables import summarise  # noqa: E402

PROTO = dict(
    name='p', title='Tiny', curve=dict(interval=5, bank=100, queries=20),
    entries=[
        dict(name='base', method='Base', budget='10 epochs', bases=[],
             config='b.py'),
        dict(name='mix', method='Mix', budget='10 epochs', bases=['base'],
             config='m.py'),
        # Half the epochs of twice the steps, as SePP.
        dict(name='pairs', method='Pairs', budget='5 pair epochs',
             bases=['base'], config='p.py'),
        dict(name='other', method='Other', budget='10 epochs', bases=[],
             config='o.py'),
        # The base trained longer, for a method's time: its epochs are the
        # base's, not a share of its longer schedule.
        dict(name='base-15e', method='Base', budget='15 epochs',
             bases=['base'], config='b.py', epoch_scale=1),
    ])


def rec(entry, seed, curve, epochs=10):
    return dict(protocol='p', entry=entry, seed=seed, knn_top1=curve[-1][1],
                config_digest=None, date='2026-12-02', wall_s=1.0,
                epochs=epochs, train_images=10, commit='c', device='cpu',
                curve=curve)


RECORDS = [
    rec('base', 0, [[5, 60.0], [10, 70.0]]),
    rec('base', 1, [[5, 62.0], [10, 72.0]]),
    rec('mix', 0, [[5, 61.0], [10, 75.0]]),
    rec('mix', 1, [[5, 61.0], [10, 73.0]]),
    rec('pairs', 0, [[1, 50.0], [5, 74.0]], epochs=5),
    # `other` has no curve: no chart.
    dict(rec('other', 0, [[10, 1.0]]), curve=None),
    rec('base-15e', 0, [[5, 60.0], [10, 70.0], [15, 76.0]], epochs=15),
]


def test_families_and_mean_curves_in_the_base_epochs():
    rows = summarise(RECORDS, PROTO, None)
    groups = families(rows)
    assert {b: [r['name'] for r in g] for b, g in groups.items()} == {
        'base': ['base', 'mix', 'pairs', 'base-15e'], 'other': ['other']}
    base, mix, pairs, longer = groups['base']
    assert mean_curve(base, 10) == [(5.0, 61.0, 1.4142135623730951),
                                    (10.0, 71.0, 1.4142135623730951)]
    assert [p[:2] for p in mean_curve(mix, 10)] == [(5.0, 61.0),
                                                     (10.0, 74.0)]
    # 5 epochs of twice the steps: epoch 1 of 5 sits at 2 of 10.
    assert mean_curve(pairs, 10) == [(2.0, 50.0, 0.0), (10.0, 74.0, 0.0)]
    assert mean_curve(groups['other'][0], 10) == []
    # epoch_scale=1: epoch 15 stays at 15, past the base's 10.
    assert [p[:2] for p in mean_curve(longer, 10)] == [
        (5.0, 60.0), (10.0, 70.0), (15.0, 76.0)]


def test_charts_are_written_for_families_with_curves(tmp_path):
    rows = summarise(RECORDS, PROTO, None)
    paths = render_curve_charts(PROTO, rows, str(tmp_path), write=False)
    assert paths == {'base': str(tmp_path / 'curve_p_base.png')}
    assert not osp.exists(paths['base'])
    render_curve_charts(PROTO, rows, str(tmp_path))
    with open(paths['base'], 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
