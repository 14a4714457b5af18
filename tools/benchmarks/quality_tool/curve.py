"""A kNN curve per run: every few epochs a cheap weighted kNN (a subset of
the train split as the bank, a subset of the test split as the queries)
goes into the run's record; the final whole-split kNN stays the row's
figure.

A protocol asks for it with ``curve=dict(interval=5, bank=10000,
queries=2000)``: the first ``bank`` train images and the first ``queries``
test images (Fashion-MNIST's splits are shuffled and class-balanced), scored
after every ``interval``-th epoch and after the last.
"""
import time
from typing import List, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

CURVE_KEYS = ('interval', 'bank', 'queries')


def check_curve(path: str, curve: Optional[dict]) -> Optional[dict]:
    """The protocol's ``curve`` setting, checked; ``None`` for no curve."""
    if curve is None:
        return None
    unknown = set(curve) - set(CURVE_KEYS)
    bad = [k for k in CURVE_KEYS
           if not isinstance(curve.get(k), int) or isinstance(
               curve.get(k), bool) or curve.get(k) < 1]
    if unknown or bad:
        raise ValueError(
            f'protocol {path}: curve must be dict(interval=N, bank=N, '
            f'queries=N) with ints >= 1, got curve={curve!r}')
    return dict(curve)


def curve_epochs(interval: int, max_epochs: int) -> List[int]:
    """The epochs after which the curve is scored."""
    return [e for e in range(1, max_epochs + 1)
            if e % interval == 0 or e == max_epochs]


class KNNCurveHook(Hook):
    """Scores the cheap kNN after the curve's epochs; ``points`` holds
    ``[epoch, top1]`` and ``seconds`` the time it took (part of the run's
    wall time, reported apart from it)."""

    priority = 'LOW'

    def __init__(self, arrays, interval: int, knn: dict,
                 points: Optional[List[list]] = None) -> None:
        self.arrays = arrays
        self.interval = interval
        self.knn = knn
        # A resumed run starts with the points of the epochs it keeps.
        self.points: List[list] = [list(p) for p in points or []]
        self.seconds = 0.0  # this process's share

    def after_train_epoch(self, runner) -> None:
        from bsim_plugin.evaluation import extract_embeddings, knn_top1
        import torch
        epoch = runner.epoch + 1  # runner.epoch counts from 0 here
        if epoch not in curve_epochs(self.interval, runner.max_epochs):
            return
        start = time.time()
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        bank, bank_y, query, query_y = self.arrays
        feats = extract_embeddings(model, torch.cat([bank, query]))
        top1 = knn_top1(feats[:len(bank)], bank_y, feats[len(bank):],
                        query_y, **self.knn)
        self.points.append([epoch, round(top1, 2)])
        self.seconds += time.time() - start
        runner.logger.info(f'[quality] curve: epoch {epoch} kNN '
                           f'top-1 {top1:.2f} % ({len(bank)} bank, '
                           f'{len(query)} queries)')


def curve_arrays(arrays, curve: dict):
    """The curve's subsets of the protocol's whole-split arrays."""
    bank, bank_y, query, query_y = arrays
    return (bank[:curve['bank']], bank_y[:curve['bank']],
            query[:curve['queries']], query_y[:curve['queries']])
