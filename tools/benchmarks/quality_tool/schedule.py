"""Filling a protocol: which runs are missing, in which order, each run in
a subprocess of its own (a clean Runner, its own wall time); and one
recipe-search run.

Progress goes to the terminal and each run's full log to
``work_dirs/quality/<protocol>/logs/``.
"""
import json
import os
import os.path as osp
import subprocess
import sys
from typing import Iterable, List, Optional

from .pairs import ensure_pairs
from .protocol import (REFERENCES, ROOT, abs_path, entry_digests,
                       find_entry, load_protocol)
from .records import (RESULTS, append_record, expected_key, read_records,
                      record_key)
from .runs import RECORD_PREFIX, run_entry

# The command line whose hidden `_child` sub-command runs one run.
ENTRY_SCRIPT = osp.join(ROOT, 'tools', 'benchmarks', 'quality.py')


def spawn(protocol_path: str, entry: str, seed: int, work_root: str,
          log_path: str) -> dict:
    """One run in a subprocess; returns the record it printed."""
    cmd = [sys.executable, ENTRY_SCRIPT, '_child', protocol_path,
           '--entry', entry, '--seed', str(seed), '--work-root', work_root]
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    record = None
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            log.write(line)
            if line.startswith(RECORD_PREFIX):
                record = json.loads(line[len(RECORD_PREFIX):])
            elif _worth_showing(line):
                print('    ' + line.rstrip()[-150:], flush=True)
        proc.wait()
    if proc.returncode != 0 or record is None:
        raise RuntimeError(f'run {entry} seed {seed} failed (exit '
                           f'{proc.returncode}); log: {log_path}')
    return record


def _worth_showing(line: str) -> bool:
    return ('Epoch(train)' in line and 'loss' in line) or '[quality]' in line


def _names(proto: dict, entries: Optional[Iterable[str]],
           references: bool) -> List[str]:
    """The entries (and references) asked for, checked against the
    protocol."""
    names = [e['name'] for e in proto['entries']]
    if entries is not None:
        entries = list(entries)
        unknown = [n for n in entries if n not in names + list(REFERENCES)]
        if unknown:
            raise KeyError(f'unknown entries {unknown}; protocol '
                           f'{proto["name"]} has {names} and the references '
                           f'{list(REFERENCES)}')
        return entries
    return list(REFERENCES) + names if references else names


def run_protocol(protocol_path: str,
                 entries: Optional[Iterable[str]] = None,
                 seeds: Optional[Iterable[int]] = None,
                 results: str = RESULTS,
                 work_root: str = 'work_dirs/quality',
                 references: bool = True) -> List[dict]:
    """Run every missing (entry, seed) of a protocol; returns new records."""
    proto = load_protocol(protocol_path)
    seeds = list(proto['seeds'] if seeds is None else seeds)
    names = _names(proto, entries, references)
    digests = entry_digests(proto)
    done = {record_key(r) for r in read_records(results)}
    # References first, then seed by seed, so that a protocol stopped
    # half-way leaves every entry with the same seeds.
    order = [(n, s) for n in names if n in REFERENCES for s in seeds] + [
        (n, s) for s in seeds for n in names if n not in REFERENCES
    ]
    todo = []
    for name, seed in order:
        key = expected_key(proto, name, seed, digests)
        if key not in done and key not in [k for k, _, _ in todo]:
            todo.append((key, name, seed))
    total = len({expected_key(proto, n, s, digests) for n, s in order})
    print(f'[quality] protocol {proto["name"]}: {len(todo)} run(s) to do, '
          f'{total - len(todo)} already recorded in {osp.relpath(results)}',
          flush=True)
    new = []
    for number, (_, name, seed) in enumerate(todo, 1):
        print(f'[quality] ({number}/{len(todo)}) {name}, seed {seed}',
              flush=True)
        if name not in REFERENCES:
            # SePP's pairs, mined first when missing (.pairs).
            ensure_pairs(proto, find_entry(proto, name), abs_path(work_root),
                         results, spawn)
        log = osp.join(abs_path(work_root), proto['name'], 'logs',
                       f'{name}_seed{seed}.log')
        record = spawn(proto['path'], name, seed, abs_path(work_root), log)
        append_record(results, record)
        new.append(record)
        linear = (f', linear probe {record["linear_top1"]:.2f} %'
                  if 'linear_top1' in record else '')
        print(f'[quality]   knn top-1 {record["knn_top1"]:.2f} %{linear}, '
              f'{record["wall_s"]:.0f} s', flush=True)
    return new


def run_trial(config: str, cfg_options: dict, seed: int, label: str,
              protocol_path: str, results: str, work_root: str) -> dict:
    """One recipe-search run on a protocol's data and kNN settings."""
    proto = load_protocol(protocol_path)
    trial = dict(proto, name=proto['name'] + '/search')
    entry = dict(name=label, method=label, config=config,
                 cfg_options=cfg_options, budget='')
    record = run_entry(trial, entry, seed, abs_path(work_root))
    append_record(results, record)
    return record
