"""The README's short views of a protocol: every method against its base,
and each entry's figures before and after a change of its recipe; and the
curve's gain over the last quarter of training."""
import os.path as osp
import sys

from conftest import ROOT

sys.path.append(osp.join(ROOT, 'tools', 'benchmarks'))
from quality_tool.changes import (previous_records,  # noqa: E402
                                  render_changes, render_headline,
                                  render_method_rows)
from quality_tool.tables import last_quarter_gain  # noqa: E402

PROTO = dict(
    name='p', title='Tiny protocol',
    entries=[
        dict(name='base', method='Base', budget='2 epochs', bases=[],
             config='base.py'),
        dict(name='method', method='Method', budget='2 epochs',
             bases=['base'], config='method.py'),
        dict(name='other', method='Other', budget='2 epochs',
             bases=['base'], config='other.py'),
    ])
DIGESTS = dict(base='new-b', method='new-m', other='new-o')


def rec(entry, seed, acc, digest, date='2026-12-02', **extra):
    return dict(dict(protocol='p', entry=entry, seed=seed, knn_top1=acc,
                     config_digest=digest, date=date, wall_s=60.0, epochs=2,
                     train_images=100, commit='abc', device='cpu'), **extra)


RECORDS = [
    # The oldest recipe of `base`, then the one before the current one.
    rec('base', 0, 50.0, 'oldest-b', date='2026-11-01'),
    rec('base', 0, 70.0, 'old-b', date='2026-12-01'),
    rec('base', 1, 72.0, 'old-b', date='2026-12-01'),
    rec('method', 0, 69.0, 'old-m', date='2026-12-01'),
    rec('method', 1, 73.0, 'old-m', date='2026-12-01'),
    rec('other', 0, 60.0, 'old-o', date='2026-12-01'),
    rec('base', 0, 68.0, 'new-b'),
    rec('base', 1, 66.0, 'new-b'),
    rec('method', 0, 63.0, 'new-m'),
    rec('method', 1, 61.0, 'new-m'),
]


def test_the_recipe_before_is_the_latest_other_digest():
    before = previous_records(RECORDS, PROTO, DIGESTS)
    assert [r['knn_top1'] for r in before['base']] == [70.0, 72.0]
    assert [r['knn_top1'] for r in before['method']] == [69.0, 73.0]
    assert [r['knn_top1'] for r in before['other']] == [60.0]


def test_changes_give_before_after_and_the_entries_not_run_again():
    text = render_changes(RECORDS, PROTO, DIGESTS)
    assert ('- Base (2 epochs): **67.00 ± 1.41 (68.00, 66.00)**, before '
            '71.00 ± 1.41 (70.00, 72.00): -4.00.') in text
    # Method: 62 now, 71 before; against its base -5 now, 0 before.
    assert ('- Method (2 epochs): **62.00 ± 1.41 (63.00, 61.00)**, before '
            '71.00 ± 2.83 (69.00, 73.00): -9.00; -5.00 vs Base (2 epochs) '
            '(before +0.00).') in text
    assert text.endswith('- Not run again yet (before):\n'
                         '  - Other (2 epochs) 60.00 (1 seed)')
    assert render_changes(RECORDS, PROTO, DIGESTS) == text


def test_headline_says_whether_a_difference_exceeds_the_spread():
    text = render_headline(RECORDS, PROTO, DIGESTS)
    assert ('- Method (2 epochs) 62.00 vs Base (2 epochs) 67.00: **-5.00** '
            '(behind by more than the larger seed sd, 1.41; 2 seeds)') in text
    close = RECORDS[:-2] + [rec('method', 0, 68.0, 'new-m'),
                            rec('method', 1, 65.0, 'new-m')]
    assert '**-0.50** (within the larger seed sd, 2.12; 2 seeds)' in \
        render_headline(close, PROTO, DIGESTS)
    # `other` has no current record: no line of its own.
    assert 'Other' not in text
    # Unequal seed counts are both given, the method's first.
    partial = RECORDS[:-1] + [rec('other', 0, 66.0, 'new-o'),
                              rec('other', 1, 67.0, 'new-o')]
    text = render_headline(partial, PROTO, DIGESTS)
    assert '-4.00** (behind by more than the larger seed sd, 1.41; 1 seed ' \
        'against 2)' in text
    assert '**-0.50** (within the larger seed sd, 1.41; 2 seeds)' in text


def test_a_method_folder_sees_its_own_entries():
    for entry, folder in zip(PROTO['entries'], ['a/', 'b/', 'b/']):
        entry['config'] = folder + entry['name'] + '.py'
    try:
        text = render_method_rows(RECORDS, PROTO, DIGESTS, 'b/')
        assert text.startswith('**Tiny protocol**:\n\n- Method (2 epochs) '
                               '62.00 vs Base (2 epochs) 67.00: **-5.00**')
        assert '- Base (2 epochs): **' not in text  # a/, not b/
        assert '- Not run again yet (before):\n  - Other (2 epochs)' in text
        assert render_method_rows(RECORDS, PROTO, DIGESTS, 'c/') == ''
        # Only earlier records: said so.
        old = [r for r in RECORDS if r['config_digest'].startswith('old')]
        assert '- Not run yet with the current recipes.' in \
            render_method_rows(old, PROTO, DIGESTS, 'b/')
    finally:
        for entry in PROTO['entries']:
            entry['config'] = entry['name'] + '.py'


def test_last_quarter_gain_of_the_mean_curve():
    # 20 epochs: the last quarter starts after epoch 15, so the latest
    # point at or before it is epoch 15 (means 80 and 81).
    curves = [[[5, 70.0], [10, 78.0], [15, 80.0], [20, 81.0]],
              [[5, 72.0], [10, 78.0], [15, 80.0], [20, 81.0]]]
    assert last_quarter_gain(curves, 20) == 1.0
    # Only points every run has count; no point before the last quarter,
    # or none after it, gives no figure.
    assert last_quarter_gain([[[20, 81.0]]], 20) is None
    assert last_quarter_gain([[[5, 70.0], [10, 75.0]]], 20) is None
    assert last_quarter_gain([], 20) is None


def test_budget_counts_the_images_of_a_wrapped_data_set():
    from mmengine.config import Config

    from quality_tool.protocol import budget_of
    plain = dict(type='FashionMNIST', indices=100)
    for dataset in (plain, dict(type='SemanticPairDataset', dataset=plain)):
        cfg = Config(dict(train_dataloader=dict(batch_size=8,
                                                dataset=dataset),
                          train_cfg=dict(max_epochs=2)))
        assert budget_of(cfg) == dict(epochs=2, train_images=100,
                                      batch_size=8)


def test_a_collapsed_seed_is_marked_in_the_table():
    from quality_tool.tables import (COLLAPSED_BELOW, render_table,
                                     summarise)
    proto = dict(PROTO, path='p.py', knn=dict(k=200, temperature=0.1))
    records = [
        rec('base', 0, 80.0, 'new-b', feature_spread=0.6),
        # Runs recorded before the spread was: no mark.
        rec('base', 1, 79.0, 'new-b'),
        rec('method', 0, 76.0, 'new-m', feature_spread=0.55),
        rec('method', 1, 10.0, 'new-m',
            feature_spread=COLLAPSED_BELOW / 2),
    ]
    table = render_table(proto, summarise(records, proto, DIGESTS))
    assert '2: 80.00, 79.00 |' in table
    assert '2: 76.00, 10.00 (collapsed) |' in table
    assert f'spread less than {COLLAPSED_BELOW}' in table
    healthy = render_table(proto, summarise(records[:3], proto, DIGESTS))
    assert 'collapsed' not in healthy
    # The headline counts it.
    assert '(within the larger seed sd, 46.67; 2 seeds, 1 of them ' \
        'collapsed)' in render_headline(records, proto, DIGESTS)


def test_the_table_says_what_the_whole_protocol_took():
    from quality_tool.tables import render_table, summarise
    proto = dict(PROTO, path='p.py', knn=dict(k=200, temperature=0.1))
    records = [rec('base', 0, 80.0, 'new-b', wall_s=5400.0),
               rec('base', 1, 79.0, 'new-b', wall_s=1800.0),
               rec('method', 0, 76.0, 'new-m', wall_s=3600.0)]
    table = render_table(proto, summarise(records, proto, DIGESTS))
    # 1.5 h + 0.5 h + 1 h, each run counted once.
    assert table.endswith('commit(s) abc; 3 runs, 3.0 h in all.')
    one = render_table(proto, summarise(records[:1], proto, DIGESTS))
    assert one.endswith('; 1 run, 1.5 h in all.')


def test_wall_times_from_two_machines_say_which_machine():
    from quality_tool.tables import render_table, summarise
    proto = dict(PROTO, path='p.py', knn=dict(k=200, temperature=0.1))
    records = [rec('base', 0, 80.0, 'new-b', wall_s=600.0, device='slow'),
               rec('base', 1, 79.0, 'new-b', wall_s=600.0, device='slow'),
               rec('method', 0, 76.0, 'new-m', wall_s=300.0, device='fast')]
    table = render_table(proto, summarise(records, proto, DIGESTS))
    assert '| 2 x 100 | 10.0 min (b) |' in table
    assert '| 2 x 100 | 5.0 min (a) |' in table
    assert ('Measured on (a) fast; (b) slow (a wall time says which it was '
            'measured on), 2026-12-02') in table
    # One machine: no marks.
    one = render_table(proto, summarise(records[:2], proto, DIGESTS))
    assert 'min |' in one and '(b)' not in one and 'Measured on slow,' in one
