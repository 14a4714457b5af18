"""A protocol run stopped part-way continues where it stopped.

Long-protocol runs take a quarter of an hour each; a session that ends, a
kill or a crash in the middle of one must not cost the epochs it trained.
Every checkpoint of a protocol run carries, in its ``meta``, what the run's
record needs beyond the weights: the config digest and seed it belongs to,
the kNN curve's points so far and the seconds trained so far. The next
``quality.py run`` finds the run's ``last_checkpoint``, and when its digest
and seed are the run's, resumes it (the plugin's checkpoint and RNG hooks
make a resumed run reach the uninterrupted run's weights); a checkpoint of
another recipe or seed is never resumed from: the run starts afresh.

The record of a resumed run says so (``resumed``: the epochs it resumed
from); its ``train_s`` is the time of the epochs kept plus the resumed
process's, so epochs lost after the last checkpoint are not counted twice.
"""
import json
import os
import os.path as osp
import time
from typing import Optional

from mmengine.hooks import Hook

META_KEY = 'quality_run'
# A finished run's record, kept beside its final checkpoint: what that
# checkpoint scored (a re-trained run is not recorded twice in the results
# file, and on another machine its scores differ from the recorded run's).
RUN_RECORD = 'quality_record.json'


def resume_point(work_dir: str, digest: str, seed: int) -> Optional[dict]:
    """The state of this run's latest checkpoint in ``work_dir`` (its path,
    epoch, curve, seconds trained and earlier resumes), or ``None`` when
    there is none or it belongs to another recipe or seed."""
    if not osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        return None
    import torch
    from mmengine.runner import find_latest_checkpoint
    # The checkpoint mmengine's own `resume=True` would pick.
    path = find_latest_checkpoint(work_dir)
    if not path or not osp.isfile(path):
        return None

    from bsim_plugin.utils import register_checkpoint_safe_globals
    register_checkpoint_safe_globals()
    try:
        meta = torch.load(path, map_location='cpu',
                          weights_only=True).get('meta') or {}
    except Exception as error:  # an unreadable file: start afresh, say why
        print(f'[quality] not resuming from {path}: {error}', flush=True)
        return None
    state = meta.get(META_KEY)
    if not state or state.get('digest') != digest or state.get(
            'seed') != seed:
        return None
    return dict(state, path=path, epoch=meta.get('epoch'))


def save_run_record(work_dir: str, checkpoint: str, record: dict) -> None:
    """Keep a finished run's record beside its final ``checkpoint``."""
    path = osp.join(work_dir, RUN_RECORD)
    with open(path + '.tmp', 'w') as f:
        json.dump(dict(record, checkpoint=osp.abspath(checkpoint)), f)
    os.replace(path + '.tmp', path)


def run_record(work_dir: str, checkpoint: str, digest: str,
               seed: int) -> Optional[dict]:
    """The record :func:`save_run_record` kept for ``checkpoint``, or
    ``None`` when there is none for it: none kept, another recipe or seed,
    another checkpoint, or a checkpoint written again after the record."""
    path = osp.join(work_dir, RUN_RECORD)
    if not osp.isfile(path) or not osp.isfile(checkpoint):
        return None
    with open(path) as f:
        record = json.load(f)
    if (record.get('config_digest') != digest or record.get('seed') != seed
            or record.get('checkpoint') != osp.abspath(checkpoint)
            or osp.getmtime(checkpoint) > osp.getmtime(path)):
        return None
    return record


class RunStateHook(Hook):
    """Writes the run's state into every checkpoint it saves (see the
    module's docstring); ``start`` is when this process began the run."""

    def __init__(self, digest: str, seed: int, start: float,
                 curve_hook=None, previous: Optional[dict] = None) -> None:
        self.digest = digest
        self.seed = seed
        self.start = start
        self.curve_hook = curve_hook
        previous = previous or {}
        self.earlier_s = previous.get('train_s', 0.0)
        self.earlier_curve_s = previous.get('curve_s', 0.0)
        self.resumed = list(previous.get('resumed', []))
        if previous:
            self.resumed.append(previous['epoch'])

    def train_seconds(self) -> float:
        return self.earlier_s + time.time() - self.start

    def curve_seconds(self) -> float:
        own = self.curve_hook.seconds if self.curve_hook is not None else 0
        return self.earlier_curve_s + own

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})[META_KEY] = dict(
            digest=self.digest,
            seed=self.seed,
            train_s=round(self.train_seconds(), 1),
            curve=[list(p) for p in (self.curve_hook.points
                                     if self.curve_hook is not None else [])],
            curve_s=round(self.curve_seconds(), 1),
            resumed=self.resumed)
