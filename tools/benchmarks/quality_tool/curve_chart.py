"""Curve charts of a protocol with a kNN curve: one chart per base and its
methods, the cheap kNN against training progress, mean over seeds with the
sample standard deviation as a band.

The x axis is in the base's epochs: a run whose schedule has another length
(SePP's pair epochs hold twice the steps, so it runs half the epochs) is
placed by the share of its schedule done, so equal steps sit above each
other, unless its entry says how many base epochs one of its epochs is
(``epoch_scale``: 1 for a base trained longer, for its method's time).
"""
import os
import os.path as osp
import statistics
import textwrap
from typing import Dict, List


def families(rows: List[dict]) -> Dict[str, List[dict]]:
    """Each base entry (one without bases) with the entries compared with
    it, in table order; an entry compared with several bases goes with the
    first."""
    entries = [r for r in rows if not r['reference']]
    groups = {r['name']: [r] for r in entries if not r.get('bases')}
    for row in entries:
        for base in row.get('bases') or []:
            if base in groups:
                groups[base].append(row)
                break
    return groups


def mean_curve(row: dict, epochs: int) -> List[tuple]:
    """``(x, mean, sd)`` of the points every seed of a row has, x in the
    base's epochs (``epochs``)."""
    curves = [r['curve'] for r in row['records'] if r.get('curve')]
    if not curves or len(curves) != len(row['records']):
        return []
    scale = row.get('epoch_scale') or epochs / row['records'][-1]['epochs']
    points: Dict[int, list] = {}
    for curve in curves:
        for epoch, top1 in curve:
            points.setdefault(epoch, []).append(top1)
    return [(e * scale, statistics.fmean(v),
             statistics.stdev(v) if len(v) > 1 else 0.0)
            for e, v in sorted(points.items()) if len(v) == len(curves)]


def render_curve_charts(proto: dict, rows: List[dict], folder: str,
                        write: bool = True) -> Dict[str, str]:
    """The path of ``curve_<protocol>_<base>.png`` for every family with a
    curve, by base name; ``write`` draws them."""
    paths = {}
    for base, members in families(rows).items():
        epochs = members[0]['records'][-1]['epochs']
        lines = [(m, mean_curve(m, epochs)) for m in members]
        lines = [(m, c) for m, c in lines if c]
        if not lines:
            continue
        path = osp.join(folder, f'curve_{proto["name"]}_{base}.png')
        paths[base] = path
        if write:
            _draw(proto, members[0], lines, path)
    return paths


def _draw(proto: dict, base: dict, lines: list, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for member, curve in lines:
        xs, means, sds = zip(*curve)
        down = member['collapsed']
        label = textwrap.fill(
            f'{member["label"]} ({member["budget"]}): {member["mean"]:.2f}'
            + (f', {down} of {len(member["records"])} seeds collapsed'
               if down else ''), 90)
        line, = ax.plot(xs, means, marker='.', label=label)
        ax.fill_between(xs, [m - s for m, s in zip(means, sds)],
                        [m + s for m, s in zip(means, sds)],
                        color=line.get_color(), alpha=0.2)
    curve_cfg = proto.get('curve') or {}
    ax.set_xlabel(f'epoch of {base["label"]}\'s schedule')
    ax.set_ylabel(f'kNN top-1 (%), {curve_cfg.get("bank", "?")} bank, '
                  f'{curve_cfg.get("queries", "?")} queries', fontsize=8)
    ax.set_title(f'{proto["title"]}\n{base["label"]} and its '
                 'methods (legend: whole-split kNN, mean)', fontsize=8)
    # Below the axes: the budgets make long labels.
    ax.legend(fontsize=7, loc='upper left', bbox_to_anchor=(0.0, -0.16))
    ax.grid(alpha=0.3)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches='tight')
    plt.close(fig)
