"""The results store (one JSON line per run) and each record's provenance.

Records are only ever appended; a run is known by its key (protocol, entry,
seed, config digest), so a protocol can be filled over several sittings.
"""
import datetime
import json
import os
import os.path as osp
import platform
import subprocess
from typing import Dict, List

from .protocol import ROOT

RESULTS_DIR = osp.join(ROOT, 'tools', 'benchmarks', 'results')
RESULTS = osp.join(RESULTS_DIR, 'quality.jsonl')
SEARCH_RESULTS = osp.join(RESULTS_DIR, 'recipe_search.jsonl')


def read_records(path: str) -> List[dict]:
    if not osp.isfile(path):
        return []
    records = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f'{path}:{number}: not a JSON record '
                                 f'({exc})') from exc
    return records


def quality_records(path: str = RESULTS) -> List[dict]:
    """The runs of a results file, each run recorded without a linear
    probe given the one probed afterwards (``quality_probe.jsonl`` beside
    it, see :mod:`.linear`): what the tables and views are rendered from."""
    from .linear import probe_file, with_probes
    return with_probes(read_records(path), read_records(probe_file(path)))


def append_record(path: str, record: dict) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'a') as f:
        f.write(json.dumps(record, sort_keys=True) + '\n')
        f.flush()
        os.fsync(f.fileno())


def record_key(record: dict) -> tuple:
    return (record['protocol'], record['entry'], record['seed'],
            record.get('config_digest'))


def expected_key(proto: dict, name: str, seed: int, digests: Dict) -> tuple:
    """The key the record of one (entry, seed) of a protocol will have."""
    if name in ('pixels', 'pixels-centred'):
        seed = 0  # no randomness
    return (proto['name'], name, seed, digests.get(name))


def _git(*args: str) -> str:
    try:
        return subprocess.run(['git', *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ''


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what platform says."""
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            names = [ln.split(':', 1)[1].strip() for ln in f
                     if ln.startswith('model name')]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return cpu


def _device(where: str = '') -> str:
    """The GPU's name when ``where`` is a CUDA device (with no ``where``:
    when one is available), else the CPU's cores, the vector instructions
    torch's kernels use and torch's threads (machines that report the same
    model name have trained the same recipe about 5x apart here, so the
    name alone does not say which machine a wall time comes from)."""
    import torch
    cuda = where.startswith('cuda') if where else torch.cuda.is_available()
    if cuda:
        return torch.cuda.get_device_name(where or None)
    isa = torch.backends.cpu.get_cpu_capability()
    return f'CPU: {os.cpu_count()} cores ({cpu_name()}, {isa}), ' \
           f'{torch.get_num_threads()} threads'


device = _device


def today() -> str:
    return datetime.date.today().isoformat()


def code_changed() -> bool:
    """Whether tracked files other than the results files differ from the
    commit (a run's own appends to a results file do not make the next run
    of the same sitting 'dirty')."""
    results = osp.relpath(RESULTS_DIR, ROOT) + '/'
    changed = _git('status', '--porcelain', '--untracked-files=no')
    return any(not line[3:].startswith(results)
               for line in changed.splitlines() if line.strip())


def provenance() -> dict:
    """Commit, date, device and torch version of a run, for its record."""
    import torch
    return dict(
        commit=_git('rev-parse', '--short', 'HEAD') or 'unknown',
        dirty=code_changed(),
        date=today(),
        device=_device(),
        torch=torch.__version__.split('+')[0])
