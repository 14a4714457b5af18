"""Statistics over the records of a protocol, and their Markdown tables.

Everything here is pure: records in, rows or text out.
"""
import statistics
from typing import Dict, Iterable, List, Optional

from .protocol import REFERENCE_LABELS, REFERENCES


# A run whose embeddings spread less than this around their mean direction
# (bsim_plugin.evaluation.feature_spread) has collapsed: its table cell says
# so. Measured on the long protocol's final checkpoints (5,000 test images,
# 2026-12-03): the collapsed InterCLR seed 2 (kNN 10.00 %) 0.0000; InterCLR
# seeds 0 and 1 0.72 and 0.66, MoCo v2 and SANE seed 0 0.77 and 0.78.
COLLAPSED_BELOW = 0.05


def collapsed(spread: Optional[float]) -> bool:
    """Whether a run's ``feature_spread`` (``None``: not recorded) says
    its encoder collapsed."""
    return spread is not None and spread < COLLAPSED_BELOW


def _seed_cell(record: dict) -> str:
    """'80.97', or '10.00 (collapsed)' for a collapsed run."""
    mark = (' (collapsed)' if collapsed(record.get('feature_spread'))
            else '')
    return f'{record["knn_top1"]:.2f}{mark}'


def summarise(records: List[dict], proto: dict,
              digests: Optional[Dict[str, str]]) -> List[dict]:
    """Table rows of one protocol: references, then entries in order.

    With ``digests`` only the records of each entry's current config count
    (others are of an earlier recipe); ``None`` takes every record.
    """
    rows = []
    names = list(REFERENCES) + [e['name'] for e in proto['entries']]
    entries = {e['name']: e for e in proto['entries']}
    for name in names:
        recs = [r for r in records
                if r['protocol'] == proto['name'] and r['entry'] == name]
        if digests is not None:
            recs = [r for r in recs
                    if r.get('config_digest') == digests.get(name)]
        if not recs:
            continue
        recs.sort(key=lambda r: r['seed'])
        accs = [r['knn_top1'] for r in recs]
        linear = [r['linear_top1'] for r in recs if 'linear_top1' in r]
        row = dict(
            name=name,
            label=REFERENCE_LABELS.get(name) or entries[name]['method'],
            reference=name in REFERENCES,
            seeds=[r['seed'] for r in recs],
            accs=accs,
            mean=statistics.fmean(accs),
            std=statistics.stdev(accs) if len(accs) > 1 else 0.0,
            wall_s=statistics.fmean(r['wall_s'] for r in recs),
            last=recs[-1],
            records=recs,
            linear=linear,
            collapsed=sum(collapsed(r.get('feature_spread'))
                          for r in recs))
        if name in entries:
            entry = entries[name]
            row.update(budget=entry['budget'], bases=entry['bases'],
                       epochs=recs[-1].get('epochs'),
                       train_images=recs[-1].get('train_images'),
                       config=entry['config'],
                       epoch_scale=entry.get('epoch_scale'))
        rows.append(row)
    by_name = {r['name']: r for r in rows}
    for row in rows:
        row['deltas'] = [
            (by_name[b]['label'] + (f' ({by_name[b]["budget"]})'
                                    if by_name[b].get('budget') else ''),
             row['mean'] - by_name[b]['mean'])
            for b in row.get('bases', []) if b in by_name
        ]
    return rows


def last_quarter_gain(curves: List[list], epochs: int) -> Optional[float]:
    """How much the mean kNN curve of some runs gained over the last quarter
    of training: its last point minus its point at the latest epoch at or
    before 3/4 of ``epochs`` (``None`` without such a point)."""
    points: Dict[int, list] = {}
    for curve in curves:
        for epoch, top1 in curve:
            points.setdefault(epoch, []).append(top1)
    mean = {e: statistics.fmean(v) for e, v in points.items()
            if len(v) == len(curves)}
    early = [e for e in mean if e <= 0.75 * epochs]
    if not curves or not early or max(mean) <= max(early):
        return None
    return mean[max(mean)] - mean[max(early)]


def _curve_note(records: List[dict]) -> str:
    """' (curve: +0.40 over the last quarter)' for runs with a curve."""
    curves = [r['curve'] for r in records if r.get('curve')]
    if len(curves) != len(records) or not curves:
        return ''
    gain = last_quarter_gain(curves, records[-1]['epochs'])
    return '' if gain is None else (
        f' (curve {gain:+.2f} over the last quarter)')


def date_span(records: Iterable[dict]) -> str:
    """'first to last' date of some records, or the one date."""
    dates = sorted({r['date'] for r in records})
    return ' to '.join(dict.fromkeys([dates[0], dates[-1]]))


def device_marks(rows: List[dict]) -> Dict[str, str]:
    """'a', 'b', ... for each device a table's runs were measured on, when
    there is more than one (wall times from two machines are not
    comparable, so each row says whose they are); {} for one device."""
    devices = sorted({r['device'] for row in rows for r in row['records']})
    if len(devices) < 2:
        return {}
    return {d: chr(ord('a') + i) for i, d in enumerate(devices)}


def _time_cell(row: dict, text: str,
               marks: Optional[Dict[str, str]]) -> str:
    """'12.3 min', or '12.3 min (b)' in a table of several devices."""
    if not marks:
        return text
    own = sorted({marks[r['device']] for r in row['records']})
    return f'{text} ({", ".join(own)})'


def _reference_line(row: dict, linear: bool = False,
                    marks: Optional[Dict[str, str]] = None) -> str:
    each = ', '.join(f'{a:.2f}' for a in row['accs'])
    name = f'*{row["label"]}*'
    if row['name'] == 'untrained':
        name += f': {row["last"].get("init", "")}'
    seeds = ('-' if row['name'] != 'untrained' else
             f'{len(row["accs"])}: {each}')
    value = (f'{row["mean"]:.2f}' if len(row['accs']) == 1 else
             f'{row["mean"]:.2f} ± {row["std"]:.2f}')
    time = _time_cell(row, f'{row["wall_s"]:.0f} s', marks)
    return (f'| {name} | - | {value} |{_linear_cell(row, linear)} {seeds} '
            f'| - | - | {time} |')


def _entry_line(row: dict, linear: bool = False,
                marks: Optional[Dict[str, str]] = None) -> str:
    each = ', '.join(_seed_cell(r) for r in row['records'])
    delta = '; '.join(f'{d:+.2f} vs {label}'
                      for label, d in row['deltas']) or '-'
    images = row.get('train_images') or 'all'
    time = _time_cell(row, f'{row["wall_s"] / 60:.1f} min', marks)
    # One seed has no spread: say so rather than print 0.
    spread = (f' ± {row["std"]:.2f}' if len(row['accs']) > 1 else
              ' (1 seed)')
    return (f'| [{row["label"]}]({row["config"]}) | {row["budget"] or "-"} | '
            f'**{row["mean"]:.2f}**{spread}{_curve_note(row["records"])} |'
            f'{_linear_cell(row, linear)} {len(row["accs"])}: {each} | '
            f'{delta} | '
            f'{row["epochs"]} x {images} | {time} |')


def _linear_cell(row: dict, linear: bool) -> str:
    """' 86.23 ± 0.40 (3 seeds) |' : the linear probe's top-1 over the
    row's runs that have one ('' without the column)."""
    if not linear:
        return ''
    values = row.get('linear') or []
    if not values:
        return ' - |'
    text = f'{statistics.fmean(values):.2f}'
    if len(values) > 1:
        text += f' ± {statistics.stdev(values):.2f}'
    if len(values) != len(row['accs']):
        text += f' ({len(values)} of {len(row["accs"])} seeds)'
    return f' {text} |'


def render_table(proto: dict, rows: List[dict]) -> str:
    """The README table of one protocol, with where and when it was run."""
    linear = bool(proto.get('linear')) or any(r.get('linear')
                                              for r in rows)
    probe = (f'; linear probe: softmax regression on the same frozen '
             f'features, trained on the whole train split, top-1 on the '
             f'test split') if linear else ''
    lines = [
        f'**{proto["title"]}** (protocol `{proto["path"]}`; weighted kNN '
        f'top-1, k={proto["knn"]["k"]}, T={proto["knn"]["temperature"]}, '
        f'bank: the whole train split, queries: the whole test split{probe}'
        '; mean ± sample standard deviation over seeds)', '',
        '| method | budget | kNN top-1 (%) |'
        + (' linear probe top-1 (%) |' if linear else '')
        + ' seeds: each | vs base | epochs x images | wall time / run |',
        '|' + ' --- |' * (8 if linear else 7)
    ]
    marks = device_marks(rows)
    lines += [_reference_line(row, linear, marks) if row['reference']
              else _entry_line(row, linear, marks) for row in rows]
    if any(row['collapsed'] for row in rows):
        lines += ['', '*collapsed*: the run\'s embeddings spread less than '
                  f'{COLLAPSED_BELOW} around their mean direction (0: one '
                  'vector for every image; `feature_spread` in '
                  '`bsim_plugin.evaluation`).']
    last = [r['last'] for r in rows]
    if last:
        commits = sorted({r['commit'] for r in last})
        runs = [r for row in rows for r in row['records']]
        devices = ([f'({m}) {d}' for d, m in marks.items()] if marks else
                   sorted({r['device'] for r in runs}))
        if marks:
            devices[-1] += ' (a wall time says which it was measured on)'
        lines += ['', f'Measured on {"; ".join(devices)}, '
                  f'{date_span(last)}, commit(s) {", ".join(commits)}; '
                  f'{_total_time(runs)}.']
    return '\n'.join(lines)


def _total_time(runs: List[dict]) -> str:
    """'12 runs, 3.4 h in all': what the table's runs took, one after
    another (each run's wall time: training, curve, kNN and probe)."""
    hours = sum(r['wall_s'] for r in runs) / 3600
    return (f'{len(runs)} run{"s" if len(runs) != 1 else ""}, '
            f'{hours:.1f} h in all')


def render_search(records: List[dict]) -> str:
    """The recipe-search runs, in the order they were made."""
    lines = [
        '| # | run (what changed) | seed | epochs x images | batch | '
        'train / total time | kNN top-1 (%) |',
        '| --- | --- | --- | --- | --- | --- | --- |'
    ]
    for number, r in enumerate(records, 1):
        lines.append(
            f'| {number} | {r["entry"]} | {r["seed"]} | {r["epochs"]} x '
            f'{r["train_images"] or "all"} | {r["batch_size"]} | '
            f'{r["train_s"] / 60:.1f} / {r["wall_s"] / 60:.1f} min | '
            f'{r["knn_top1"]:.2f}{_curve_note([r])} |')
    if records:
        lines += ['', f'Weighted kNN as in the protocol (whole train split as '
                  f'the bank, whole test split); {records[-1]["device"]}; '
                  f'{date_span(records)}.']
    return '\n'.join(lines)
