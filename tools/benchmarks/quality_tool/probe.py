"""Probing recorded runs afterwards: ``quality.py probe PROTOCOL``.

A protocol's runs recorded before it asked for the linear probe (see
:mod:`.linear`), or before runs recorded the spread of their embeddings
(``feature_spread``, which marks a collapsed run), are probed from their
final checkpoint in the work dir; each result is one line of
``quality_probe.jsonl`` beside the results file, and gives its run both.
"""
import os.path as osp
import time
from typing import Dict, List, Optional

from .linear import PROBED, probe_file, with_probes
from .protocol import abs_path, build_config, entry_digests, find_entry
from .records import append_record, provenance, read_records
from .resume import resume_point
from .runs import score_model, split_arrays


def probe_runs(proto: dict, results: str, work_root: str,
               entries: Optional[List[str]] = None,
               seeds: Optional[List[int]] = None) -> List[dict]:
    """Probe every current run of the protocol that has no linear top-1
    or no feature spread yet, of its own or from an earlier probe (module
    docstring); returns the new probe records. A run whose final checkpoint
    is not in ``work_root`` is named and skipped."""
    if not proto.get('linear'):
        raise ValueError(f'protocol {proto["path"]} has no `linear` setting '
                         'to probe with')
    digests: Dict[str, Optional[str]] = entry_digests(proto)
    out = probe_file(results)
    names = {e['name'] for e in proto['entries']}
    todo = [r for r in with_probes(read_records(results), read_records(out))
            if r['protocol'] == proto['name'] and r['entry'] in names
            and r.get('config_digest') == digests.get(r['entry'])
            and not all(key in r for key, _ in PROBED)
            and (not entries or r['entry'] in entries)
            and (seeds is None or r['seed'] in seeds)]
    if not todo:
        print('[quality] every current run has its linear probe and feature '
              'spread', flush=True)
        return []
    arrays = split_arrays(proto)
    new = []
    for number, run in enumerate(todo, 1):
        name, seed = run['entry'], run['seed']
        entry = find_entry(proto, name)
        work_dir = osp.join(abs_path(work_root), proto['name'], name,
                            f'seed{seed}')
        point = resume_point(work_dir, run['config_digest'], seed)
        if not point or point['epoch'] != run.get('epochs'):
            print(f'[quality] ({number}/{len(todo)}) {name}, seed {seed}: '
                  f'its final checkpoint is not in {work_dir}; skipped',
                  flush=True)
            continue
        print(f'[quality] ({number}/{len(todo)}) {name}, seed {seed}: '
              f'probing {point["path"]}', flush=True)
        record = probe_checkpoint(proto, entry, run, point['path'], arrays)
        append_record(out, record)
        new.append(record)
    return new


def probe_checkpoint(proto: dict, entry: dict, run: dict, checkpoint: str,
                     arrays) -> dict:
    """The probe record of one recorded run from its final checkpoint."""
    from mmengine.registry import init_default_scope

    from bsim_plugin.apis import model_with_backbone
    start = time.time()
    init_default_scope('mmpretrain')
    cfg = build_config(entry['config'], entry['cfg_options'])
    model = model_with_backbone(cfg, entry['config'], checkpoint)
    scores = score_model(model, proto, arrays=arrays)
    knn = round(scores['knn_top1'], 2)
    same = abs(knn - run['knn_top1']) <= 0.02
    print(f'[quality]   kNN of the same features {knn:.2f} % (recorded '
          f'{run["knn_top1"]:.2f} %: '
          f'{"the same" if same else "DIFFERENT: not the run checkpoint?"})',
          flush=True)
    if not same:
        raise RuntimeError(
            f'{checkpoint}: its kNN {knn:.2f} % is not the recorded '
            f'{run["knn_top1"]:.2f} % of {entry["name"]} seed {run["seed"]}; '
            'not probing a checkpoint that may not be the run\'s')
    return dict(
        protocol=proto['name'], entry=entry['name'], seed=run['seed'],
        config_digest=run['config_digest'],
        checkpoint=osp.relpath(checkpoint, abs_path('.')),
        knn_top1=knn, linear_top1=scores['linear_top1'],
        feature_spread=round(scores['feature_spread'], 4),
        linear_s=scores['linear_s'], linear=proto['linear'],
        wall_s=round(time.time() - start, 1), **provenance())
