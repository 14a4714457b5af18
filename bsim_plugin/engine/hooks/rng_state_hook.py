import random
from typing import Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import MMLogger
from mmpretrain.registry import HOOKS

RNG_KEY = 'rng_state'


def get_rng_state() -> dict:
    """This process's Python, NumPy, torch (and CUDA) random states."""
    state = dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save every process's random state in checkpoints; restore on resume.

    mmengine re-seeds a resumed run from the start, so data augmentation and
    random mixing ratios after a resume differ from an uninterrupted run.
    With this hook a run resumed from a checkpoint draws the same random
    numbers as the uninterrupted run, so it reaches the same weights.

    Checkpoints are written by rank 0 only, so the states of all ranks are
    gathered (on every rank) right before the ``CheckpointHook`` runs: at
    the end of each epoch, or every ``interval`` iterations when it saves by
    iteration. Resuming with another world size restores nothing and warns.
    """
    # Before CheckpointHook (VERY_LOW) in after_train_epoch/after_train_iter.
    priority = 'LOW'

    def __init__(self) -> None:
        self._pending: Optional[dict] = None
        self._gathered: Optional[list] = None
        self._gathered_at: Optional[int] = None
        self._iter_interval: Optional[int] = None

    def _gather(self, runner) -> None:
        self._gathered = all_gather_object(get_rng_state())
        self._gathered_at = runner.iter

    def before_train(self, runner) -> None:
        for hook in runner.hooks:
            if isinstance(hook, CheckpointHook) and not hook.by_epoch:
                self._iter_interval = hook.interval
        if self._pending is not None:
            set_rng_state(self._pending)
            self._pending = None

    def after_train_epoch(self, runner) -> None:
        self._gather(runner)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if self._iter_interval and self._iter_interval > 0 and (
                runner.iter + 1) % self._iter_interval == 0:
            self._gather(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self._gathered is not None and self._gathered_at == runner.iter:
            checkpoint[RNG_KEY] = self._gathered
        elif get_world_size() == 1:
            checkpoint[RNG_KEY] = [get_rng_state()]
        else:
            MMLogger.get_current_instance().warning(
                'RNGStateHook: no gathered random states for this '
                'checkpoint; a resume from it will not be exact.')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # Only a resumed run continues the random streams (not load_from).
        # The states are applied in before_train, after mmengine's resume
        # has finished (it may re-seed when the seeds differ).
        if not getattr(runner, '_resume', False):
            return
        states: Optional[list] = checkpoint.get(RNG_KEY)
        logger = MMLogger.get_current_instance()
        if states is None:
            logger.warning('Checkpoint has no random state (saved without '
                           'RNGStateHook): random draws after resume differ '
                           'from an uninterrupted run.')
            return
        if len(states) != get_world_size():
            logger.warning(
                f'Checkpoint random states are from {len(states)} '
                f'processes, this run has {get_world_size()}: not restored.')
            return
        self._pending = states[get_rank()]
