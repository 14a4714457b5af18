"""README figures of timed commands and of the transfer chain, rendered
from their JSON-lines results files (one record per measurement):

- ``measured.jsonl`` (``tools/benchmarks/timed.py``): the demo, set-up,
  test-suite and CI wall times of the README's "Measured" section;
- ``transfer_chain.jsonl`` (``extract_backbone_weights.py --record``,
  ``linear_probe.py --record``): each step of the CPU transfer chain.

Each renderer reads its file from a results folder and returns the
Markdown of one README block; a record's ``note`` is printed as it is
stored.
"""
import os.path as osp
from typing import Iterable, List, Optional, Tuple

from .figures import _row
from .records import read_records

MEASURED_FILE = 'measured.jsonl'
# The rows of the "Measured" table in this order, and what each measures
# (a name not listed here comes after them, described by its command).
MEASURED_NAMES = {
    'demo': 'demo (`bash tools/run_demo.sh`, environment in place)',
    'setup-cold': 'set-up, cold (`tools/setup_env.sh`, new venv, empty '
    'wheel cache)',
    'setup-warm': 'set-up with the mmcv wheel kept (new venv: torch from '
    "pip's cache + installs)",
    'tests': 'test suite (`bash tools/run_tests.sh`, environment in place)',
    'ci': 'CI from a fresh clone (`bash .ci/run`: new venv with the mmcv '
    'wheel kept, then the tests)',
}
CHAIN_FILE = 'transfer_chain.jsonl'


def cell(text) -> str:
    """Text fit for one Markdown table cell (one line, no bare ``|``)."""
    return ' '.join(str(text).split()).replace('|', '\\|')


def duration(seconds: float) -> str:
    """Whole seconds as ``7 min 37 s`` (``42 s``, ``1 h 0 min 5 s``)."""
    hours, rest = divmod(int(round(seconds)), 3600)
    mins, secs = divmod(rest, 60)
    words = [f'{hours} h'] if hours else []
    if hours or mins:
        words.append(f'{mins} min')
    return ' '.join(words + [f'{secs} s'])


def minutes(seconds) -> str:
    """Minutes with one decimal, ``.0`` left out (under a minute: seconds);
    ``-`` when not timed."""
    if seconds is None:
        return '-'
    if seconds < 60:
        return f'{seconds:.1f} s'
    text = f'{seconds / 60:.1f}'
    return (text[:-2] if text.endswith('.0') else text) + ' min'


def _unique(values: Iterable) -> list:
    seen = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def latest(records: List[dict], key: str) -> List[dict]:
    """The last record of each ``key``, in the order the keys first
    appear."""
    last = {}
    for record in records:
        last[record[key]] = record
    return list(last.values())


def shared_by(records: List[dict]) -> Tuple[Optional[str], Optional[str]]:
    """The machine and the date all the records share (``None`` where they
    differ)."""
    devices = _unique(r.get('device') for r in records)
    dates = _unique(r.get('date') for r in records)
    return (devices[0] if len(devices) == 1 else None,
            dates[0] if len(dates) == 1 else None)


def measured_on(device: Optional[str], date: Optional[str] = None) -> str:
    """``on MACHINE, DATE`` for what the rows share ('' for nothing)."""
    return f'on {device}' + (f', {date}' if date else '') if device else ''


def when_column(device: Optional[str]) -> str:
    """The column of what the rows do not share."""
    return 'date' if device else 'date, machine'


def when_cell(record: dict, device: Optional[str]) -> str:
    return record['date'] if device else cell(
        f'{record["date"]}, {record["device"]}')


def notes(records: List[dict]) -> List[str]:
    """The records' notes (each once, in order) as paragraphs."""
    return [f'\n{n}' for n in _unique(r.get('note') for r in records) if n]


def render_measured(results_dir: str) -> str:
    """One row per name, its latest record: what ran, when, the wall time
    (and a failed command's exit status), and the record's note."""
    records = read_records(osp.join(results_dir, MEASURED_FILE))
    if not records:
        return 'Not measured yet.'
    order = list(MEASURED_NAMES)
    rows = sorted(latest(records, 'name'),
                  key=lambda r: order.index(r['name'])
                  if r['name'] in order else len(order))
    device, _ = shared_by(rows)
    lines = [f'Measured {measured_on(device)}:', ''] if device else []
    lines += [_row('what', when_column(device), 'wall time', 'notes'),
              _row(*['---'] * 4)]
    for r in rows:
        wall = duration(r['wall_s'])
        if r['rc']:
            wall += f' (**failed**: exit status {r["rc"]})'
        lines.append(_row(
            MEASURED_NAMES.get(r['name'])
            or cell(f'{r["name"]} (`{r["command"]}`)'),
            when_cell(r, device), wall, cell(r.get('note') or '')))
    return '\n'.join(lines)


def chain_result(record: dict) -> str:
    """A step's result: as recorded, or made from the numbers a tool
    recorded."""
    if record.get('result'):
        return cell(record['result'])
    if record.get('kind') == 'conversion':
        dropped = ', '.join(f'{group} ({n})' for group, n in
                            sorted(record['dropped'].items()))
        return (f'{record["kept"]} backbone tensors kept '
                f'({record["parameters"] / 1e6:.2f} M parameters), '
                f'dropped: {dropped or "nothing"}')
    if record.get('kind') == 'linear-probe':
        return (f'top-1 **{record["linear_top1"]:.2f} %** on the test '
                f'split (train {record["train_top1"]:.2f} %; '
                f'{record["dim"]}-d features, {record["iterations"]} L-BFGS '
                'iterations)')
    raise ValueError(f'{CHAIN_FILE}: step {record.get("step")!r} has neither '
                     'a result nor a known kind')


def render_transfer_chain(results_dir: str) -> str:
    """One row per step, its latest record: the result and wall time; the
    steps' notes after the table."""
    records = read_records(osp.join(results_dir, CHAIN_FILE))
    if not records:
        return 'Not run yet.'
    rows = latest(records, 'step')
    device, date = shared_by(rows)
    per_row = not (device and date)
    head = ['step', 'result', 'wall time'] + (
        [when_column(device)] if per_row else [])
    lines = ([f'Measured {measured_on(device, date)}:', '']
             if device else []) + [_row(*head), _row(*['---'] * len(head))]
    for r in rows:
        extra = [when_cell(r, device)] if per_row else []
        lines.append(_row(cell(r['step']), chain_result(r),
                          minutes(r.get('wall_s')), *extra))
    return '\n'.join(lines + notes(rows))
