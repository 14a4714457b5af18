"""The benchmarks' README figures, rendered from their results files.

Here (README.md):

- ``step-time`` (``tools/benchmarks/step_time.py --json``): each method
  against its base, one row group per results file;
- ``interclr-memory``: InterCLR's memory work per iteration
  (``tools/benchmarks/interclr_memory.py --profile --json``).

Beside it: :mod:`.figures_runs` (``measured``: the timed commands;
``chain-results``: the transfer chain), :mod:`.figures_detection`
(``detection-smoke``) and :mod:`.figures_sepp` (``sepp-mining``, in
configs/sepp/README.md). :mod:`.readme` registers every renderer.

Each renderer reads its files from a results folder and returns the
Markdown of one README block.
"""
import json
import os.path as osp

# Step-time results in the table's order, and what a row group's label
# adds to what the file says (preset, image size, batch, steps).
STEP_TIME_FILES = (
    ('step_time_cpu-r18_b64.json', ''),
    ('step_time_r50-224_b16.json', ''),
    ('step_time_cpu-r18_b128.json', " (the protocol's)"),
)
STEP_TIME_DEFAULT_STEPS = 20  # step_time.py's --steps default
PRESET_LABELS = {
    'cpu-small': 'CIFAR ResNet-18, width 16',
    'cpu-r18': 'ResNet-18 (recipe)',
    'r50-224': 'ResNet-50',
}
PAIR_LABELS = {
    'simclr': 'SimCLR',
    'mocov2': 'MoCo v2',
    'byol': 'BYOL',
    'simsiam': 'SimSiam',
    'sane': 'SANE',
}

INTERCLR_FILE = 'interclr_memory_cpu_full.json'
INTERCLR_DEFAULT = 'semihard'  # InterCLRMoCo's default strategy
INTERCLR_TARGET = 1.5  # the bound on the default's ratio
# The stages named in the per-stage sentence (the rest are summed), with
# what the default strategy does in them.
INTERCLR_STAGES = {
    'similarities': ('similarities', ''),
    'negatives': ('negatives', ' (one unsorted top-k of width `P + n_y`, '
                  'then the label check, the drop of surplus candidates '
                  'and a top-K of random scores)'),
    'logits + gradient': ('logits and gradient', ''),
}


def _load(results_dir: str, name: str) -> dict:
    with open(osp.join(results_dir, name)) as f:
        return json.load(f)


def _seconds(value: float) -> str:
    """Three decimals below a second, two above (as measured: medians)."""
    return f'{value:.3f}' if value < 1 else f'{value:.2f}'


def _step_time_label(result: dict, note: str) -> str:
    preset = PRESET_LABELS.get(result['preset'], result['preset'])
    label = f'{preset}, {result["image_size"]} px, batch {result["batch"]}'
    if result['steps'] != STEP_TIME_DEFAULT_STEPS:
        label += f' ({result["steps"]} steps)'
    return label + note


def _row(*cells: str) -> str:
    """A Markdown table row; an empty cell is written `| |`."""
    return '|' + '|'.join(f' {c} ' if c else ' ' for c in cells) + '|'


def render_step_time(results_dir: str) -> str:
    """The step-time table: each pair's medians, ratio, the ratio its
    encoder passes alone would give (where measured) and peak memory."""
    lines = [
        _row('preset', 'pair', 'base s/step', 'BSIM s/step', 'ratio',
             'floor from encoder passes', 'peak MiB base / BSIM'),
        _row(*['---'] * 7),
    ]
    for name, note in STEP_TIME_FILES:
        result = _load(results_dir, name)
        floors = result.get('floor', {})
        for number, pair in enumerate(result['pairs']):
            floor = floors.get(pair['pair'])
            lines.append(_row(
                # The preset is named on its first row only.
                _step_time_label(result, note) if number == 0 else '',
                PAIR_LABELS[pair['pair']],
                _seconds(pair['base_median_s']),
                _seconds(pair['method_median_s']),
                f'**{pair["ratio"]:.2f}x**',
                '-' if floor is None else f'{floor:.2f}x',
                f'{pair["base_peak_mib"]} / {pair["method_peak_mib"]}'))
    return '\n'.join(lines)


def _default_summary(row: dict) -> str:
    """Whether the default strategy meets the target; its time per stage."""
    met = row['ratio'] <= INTERCLR_TARGET
    stages = dict(row['stages_s'])
    parts = [f'{label} {stages.pop(key):.2f} s{what}'
             for key, (label, what) in INTERCLR_STAGES.items()]
    parts.append(f'everything else {sum(stages.values()):.2f} s')
    return (f'The target ({INTERCLR_DEFAULT} within {INTERCLR_TARGET}x of '
            f'its floor) is **{"met" if met else "not met"}**. '
            f'{INTERCLR_DEFAULT.capitalize()} per stage: {", ".join(parts)}.')


def render_interclr_memory(results_dir: str) -> str:
    """The strategies against their floors, peak memory, whether the
    default strategy meets the target, and its time per stage."""
    result = _load(results_dir, INTERCLR_FILE)
    lines = [_row('strategy', 'floor s', 'total s', 'ratio'),
             _row(*['---'] * 4)]
    summary = [f'Peak RSS {result["peak_mib"] / 1024:.1f} GiB.']
    for row in result['rows']:
        name, ratio = row['strategy'], f'{row["ratio"]:.2f}x'
        if name == INTERCLR_DEFAULT:
            name, ratio = f'**{name}** (default)', f'**{ratio}**'
            summary.append(_default_summary(row))
        lines.append(_row(name, f'{row["floor_s"]:.2f}',
                          f'{row["total_s"]:.2f}', ratio))
    return '\n'.join(lines + ['', ' '.join(summary)])
