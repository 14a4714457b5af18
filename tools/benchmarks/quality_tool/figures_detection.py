"""The detection smoke's README figures (pre-trained backbone against
random initialisation), rendered from ``detection_smoke.jsonl``: one
record per run, appended by ``tools/benchmarks/mmdetection/
detection_smoke.py``, which writes its block through :func:`fill_smoke`.
"""
import os.path as osp
import statistics

from .figures_runs import _unique
from .records import read_records
from .writeback import begin_marker, end_marker, fill_block

SMOKE_FILE = 'detection_smoke.jsonl'
SMOKE_BLOCK = 'detection-smoke'
ARMS = ('pretrained', 'pretrained-res5', 'random')
# The settings a run is identified by (with arm and seed).
SETTINGS = ('config', 'backbone_sha256', 'iters', 'scale', 'rois',
            'batch_size')


def _sd(values):
    return statistics.stdev(values) if len(values) > 1 else 0.0


def _verdict(means: dict) -> str:
    (pm, ps, pv), (rm, rs, rv) = means['pretrained'], means['random']
    diff = pm - rm
    if len(pv) < 2 or len(rv) < 2:
        verdict = 'one seed per arm: no spread to compare with'
    elif diff > ps + rs:
        verdict = (f'more than the spread (sd {ps:.2f} + {rs:.2f}); '
                   f'every pre-trained run above every random one: '
                   f'{"yes" if min(pv) > max(rv) else "no"}')
    else:
        verdict = (f'within the spread (sd {ps:.2f} + {rs:.2f}): no '
                   'measured difference')
    return f'Pre-trained minus random: **{diff:+.2f}** points, {verdict}.'


def smoke_report(results: list, settings: dict) -> str:
    """Markdown for the runs of one set of settings: per arm mean, sd and
    runs, and the verdict ('' when there is no such run)."""
    rows = [r for r in results
            if all(r.get(k) == settings[k] for k in SETTINGS)]
    if not rows:
        return ''
    by_arm = {}
    for r in sorted(rows, key=lambda r: (r['arm'], r['seed'])):
        by_arm.setdefault(r['arm'], []).append(r)
    lines = [
        f'Faster R-CNN R18-C4 on the Fashion-MNIST detection set (VOC '
        f'format, VOC07 mAP@0.5 on the test split), {settings["iters"]} '
        f'iterations at batch {settings["batch_size"]}, images resized to '
        f'{settings["scale"]} px, {settings["rois"]} RoIs per image; '
        f'backbone sha256 {settings["backbone_sha256"][:12]}; generated '
        f'from `tools/benchmarks/results/{SMOKE_FILE}`.',
        '',
        '| arm | runs | mAP@0.5 mean ± sd | per seed | minutes per run |',
        '| --- | --- | --- | --- | --- |',
    ]
    means = {}
    for arm in [a for a in ARMS if a in by_arm]:
        values = [r['map50'] for r in by_arm[arm]]
        means[arm] = (statistics.mean(values), _sd(values), values)
        seeds = ', '.join(f'{r["seed"]}: {r["map50"]:.2f}'
                          for r in by_arm[arm])
        minutes = statistics.mean(r['wall_s'] for r in by_arm[arm]) / 60
        lines.append(f'| {arm} | {len(values)} | {means[arm][0]:.2f} ± '
                     f'{means[arm][1]:.2f} | {seeds} | {minutes:.0f} |')
    if 'pretrained' in means and 'random' in means:
        lines += ['', _verdict(means)]
    return '\n'.join(lines)


def smoke_block(path: str) -> str:
    """Every set of settings in a results file (in the order they first
    appear), each with its report; ``Not run yet.`` for none."""
    results = read_records(path)
    groups = _unique(tuple(r.get(k) for k in SETTINGS) for r in results)
    texts = [smoke_report(results, dict(zip(SETTINGS, group)))
             for group in groups]
    return '\n\n'.join(texts) or 'Not run yet.'


def render_detection_smoke(results_dir: str) -> str:
    return smoke_block(osp.join(results_dir, SMOKE_FILE))


def fill_smoke(readme: str, results: str) -> None:
    """Write the block of the runs in ``results`` into ``readme``."""
    fill_block(readme, begin_marker(SMOKE_BLOCK), end_marker(SMOKE_BLOCK),
               smoke_block(results))
