"""SePP entries' pairs, mined when missing before the entry's first run.

An entry that trains on mined pairs names where they come from::

    dict(name='sepp-mocov2', ..., pairs=dict(entry='mocov2', seed=0, k=1),
         cfg_options={'train_dataloader.dataset.pairs_file': PAIRS})

Before such an entry runs, ``quality.py run`` makes sure the pairs file is
there: if not, it mines it with ``tools/sepp/mine_pairs.py`` from the final
checkpoint of the source entry's run (in the protocol's work dir), training
that run first when its checkpoint is not there (a fresh machine, a cleaned
work dir). A re-trained run that is already recorded is not recorded twice;
its kNN is printed beside the recorded one, and the mining record's note
gives the kNN of the checkpoint it mined from (kept in the run's work dir,
``resume.RUN_RECORD``), not the recorded run's. The mining run goes to
``sepp_mining.jsonl`` beside the results file (the README's mining table).
So a protocol fills with one command on any machine.
"""
import os
import os.path as osp
import subprocess
import sys
from typing import Optional

from .protocol import (ROOT, abs_path, budget_of, build_config,
                       config_digest, find_entry, pairs_option)
from .records import append_record, read_records, record_key
from .resume import resume_point, run_record

MINE_SCRIPT = osp.join(ROOT, 'tools', 'sepp', 'mine_pairs.py')
MINING_RESULTS = 'sepp_mining.jsonl'


def ensure_pairs(proto: dict, entry: dict, work_root: str, results: str,
                 spawn) -> None:
    """Mine the entry's pairs file when it is missing (module docstring).
    ``spawn`` runs one protocol run in a subprocess and returns its record
    (``schedule.spawn``)."""
    spec = entry.get('pairs')
    if not spec:
        return
    out = abs_path(entry['cfg_options'][pairs_option(entry)])
    if osp.isfile(out):
        return
    source = find_entry(proto, spec['entry'])
    seed = spec['seed']
    cfg = build_config(source['config'], source['cfg_options'])
    digest = config_digest(cfg, source.get('revision'))
    epochs = budget_of(cfg)['epochs']
    work_dir = osp.join(work_root, proto['name'], source['name'],
                        f'seed{seed}')
    logs = osp.join(work_root, proto['name'], 'logs')
    print(f'[quality] {entry["name"]}: no pairs file {osp.relpath(out)}; '
          f'mining it from {source["name"]} seed {seed}', flush=True)
    point = resume_point(work_dir, digest, seed)
    if not point or point['epoch'] != epochs:
        print(f'[quality]   its final checkpoint is not in {work_dir}: '
              f'training {source["name"]} seed {seed} first', flush=True)
        record = spawn(proto['path'], source['name'], seed, work_root,
                       osp.join(logs, f'{source["name"]}_seed{seed}.log'))
        _keep_record(results, record)
        point = resume_point(work_dir, digest, seed)
        if not point or point['epoch'] != epochs:
            raise RuntimeError(
                f'the run of {source["name"]} seed {seed} left no final '
                f'checkpoint (epoch {epochs}) in {work_dir}')
    key = (proto['name'], source['name'], seed, digest)
    recorded = [r for r in read_records(results) if record_key(r) == key]
    checkpoint = (f'the {source["method"]} checkpoint of {proto["title"]}'
                  f' (seed {seed}, {epochs} epoch{"s" * (epochs != 1)}' +
                  _score_note(run_record(work_dir, point['path'], digest,
                                         seed),
                              recorded[-1] if recorded else None) + ')')
    import torch
    cmd = [
        sys.executable, MINE_SCRIPT, source['config'], point['path'], '--k',
        str(spec['k']), '--device',
        'cuda' if torch.cuda.is_available() else 'cpu', '--out', out,
        '--record',
        osp.join(osp.dirname(abs_path(results)), MINING_RESULTS),
        '--checkpoint-note', checkpoint, '--note',
        f'protocol pairs: the {entry["method"]} rows of {proto["name"]} '
        'train on these (mined by quality.py run)'
    ] + cli_options(source['cfg_options'])
    log = osp.join(logs, f'mining_{entry["name"]}.log')
    os.makedirs(logs, exist_ok=True)
    with open(log, 'w') as f:
        code = subprocess.call(cmd, cwd=ROOT, stdout=f,
                               stderr=subprocess.STDOUT)
    if code != 0 or not osp.isfile(out):
        raise RuntimeError(f'mining the pairs of {entry["name"]} failed '
                           f'(exit {code}); log: {log}')
    print(f'[quality]   mined {osp.relpath(out)} (log: {log})', flush=True)


def _score_note(own: Optional[dict], recorded: Optional[dict]) -> str:
    """What the miner's checkpoint scored, for its note: its own kNN (kept
    beside it by its run), saying so when it is not the recorded run's (a
    re-training, on this or another machine); the recorded run's only
    when the checkpoint's own score was not kept (a run from before
    2026-12-03), and then said to be the recorded run's."""
    if own is None:
        return (f', kNN top-1 of its recorded run {recorded["knn_top1"]:.2f}'
                ' %' if recorded else '')
    note = f', kNN top-1 {own["knn_top1"]:.2f} %'
    same = ('knn_top1', 'train_s', 'date', 'device')
    if recorded and any(recorded.get(k) != own.get(k) for k in same):
        note += (f'; trained again on {own.get("device", "?")} for its '
                 f'checkpoint, the recorded run read '
                 f'{recorded["knn_top1"]:.2f} %')
    return note


def cli_options(options: dict) -> list:
    """An entry's cfg options as ``--cfg-options k=v ...`` of the miner."""
    words = []
    for key, value in options.items():
        if value is not None and not isinstance(value,
                                                (bool, int, float, str)):
            raise ValueError(f'cannot pass the option {key}={value!r} to '
                             'the miner on its command line')
        words.append(f'{key}={value}')
    return ['--cfg-options'] + words if words else []


def _keep_record(results: str, record: dict) -> None:
    """Record a source run unless the same run is recorded already."""
    same = [
        r for r in read_records(results)
        if record_key(r) == record_key(record)
    ]
    if not same:
        append_record(results, record)
        return
    print(f'[quality]   re-trained for its checkpoint, not recorded again: '
          f'kNN top-1 {record["knn_top1"]:.2f} % (recorded '
          f'{same[0]["knn_top1"]:.2f} %)', flush=True)
