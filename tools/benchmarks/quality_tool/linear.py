"""The linear probe beside the kNN: a protocol's second score of a run.

A protocol asks for it with ``linear=dict(weight_decay=1e-4,
max_iter=300)``: after the final kNN, the same frozen features (globally
pooled backbone features, eval mode, no augmentation) of the whole train
split train ``linear_probe.py``'s classifier (softmax regression on the
standardised features, full-batch L-BFGS), scored on the whole test split.
The run's record gets ``linear_top1`` (and ``linear_s``, the fit's time).

Runs recorded before their protocol asked for it are probed afterwards
from their final checkpoint (``quality.py probe PROTOCOL``): the result goes
to ``quality_probe.jsonl`` beside the results file, one line per run, keyed
like the run (protocol, entry, seed, config digest), with the kNN of the
same features recomputed as a check that the checkpoint is the run's. The
tables take a run's ``linear_top1`` from its record, else from that file
(:mod:`.probe` does the probing; this module imports nothing of the tool, so
that the protocol checks can use it).
"""
import os.path as osp
import time
from typing import List, Optional

LINEAR_DEFAULTS = dict(weight_decay=1e-4, max_iter=300)
PROBE_FILE = 'quality_probe.jsonl'


def check_linear(path: str, linear) -> Optional[dict]:
    """The protocol's ``linear`` setting with its defaults, checked;
    ``None`` for no probe."""
    if linear is None or linear is False:
        return None
    if linear is True:
        linear = {}
    if not isinstance(linear, dict) or set(linear) - set(LINEAR_DEFAULTS):
        raise ValueError(
            f'protocol {path}: linear must be dict(weight_decay=X, '
            f'max_iter=N) (or True for the defaults {LINEAR_DEFAULTS}), got '
            f'linear={linear!r}')
    linear = dict(LINEAR_DEFAULTS, **linear)
    wd, iters = linear['weight_decay'], linear['max_iter']
    if isinstance(wd, bool) or not isinstance(wd, (int, float)) or wd < 0:
        raise ValueError(f'protocol {path}: linear weight_decay must be a '
                         f'number >= 0, got {wd!r}')
    if isinstance(iters, bool) or not isinstance(iters, int) or iters < 1:
        raise ValueError(f'protocol {path}: linear max_iter must be an '
                         f'integer >= 1, got {iters!r}')
    return linear


def linear_scores(bank, bank_y, query, query_y, linear: dict,
                  progress: bool = True) -> dict:
    """Top-1 of a linear probe fitted on the bank's features and scored on
    the queries'; ``linear_s`` is the fit's time."""
    from bsim_plugin.evaluation import fit_linear_probe, probe_top1
    start = time.time()
    num_classes = int(max(bank_y.max(), query_y.max())) + 1
    probe = fit_linear_probe(bank, bank_y, num_classes, **linear)
    top1 = probe_top1(probe, query, query_y)
    if progress:
        print(f'[quality]   linear probe top-1 {top1:.2f} % '
              f'({probe["iterations"]} L-BFGS iterations)', flush=True)
    return dict(linear_top1=round(top1, 2),
                linear_s=round(time.time() - start, 1))


def probe_file(results: str) -> str:
    return osp.join(osp.dirname(osp.abspath(results)), PROBE_FILE)


def run_key(record: dict) -> tuple:
    """What a probe and its run share (``records.record_key``)."""
    return (record['protocol'], record['entry'], record['seed'],
            record.get('config_digest'))


def with_probes(records: List[dict], probes: List[dict]) -> List[dict]:
    """The records, each run without its own ``linear_top1`` (or
    ``feature_spread``) given the one probed afterwards (the latest probe
    of the same key that has it), if any."""
    latest = {key: {run_key(p): p[key] for p in probes if key in p}
              for key, _ in PROBED}
    out = []
    for r in records:
        for key, flag in PROBED:
            value = latest[key].get(run_key(r))
            if value is not None and key not in r:
                r = dict(r, **{key: value, flag: True})
        out.append(r)
    return out


# What a probe adds to a run recorded without it, and the flag saying so.
PROBED = (('linear_top1', 'linear_probed'), ('feature_spread',
                                             'spread_probed'))
