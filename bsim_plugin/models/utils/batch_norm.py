"""BatchNorm the way contrastive training on one device needs it.

* :class:`SplitBatchNorm2d` (norm type ``'SplitBN'``): BatchNorm over ``G``
  sub-batches. On one process mmpretrain's ``batch_shuffle_ddp`` is a plain
  permutation, so MoCo's key encoder normalises the keys with the statistics
  of exactly the batch its queries were normalised with, and the model can
  find its positive through them (MoCo, section 3.3). With ``G`` splits in
  both encoders and the keys shuffled before they are encoded, a key is
  normalised with the statistics of another group of samples than its
  query. Its running statistics are the mean of the groups', and its keys
  are BatchNorm's, so an exported backbone loads into a plain-BN ResNet.
* :func:`running_stats_frozen`: extra passes (a BSIM mixture, SANE's mixed
  query, partners' key views) normalise with their own batch statistics and
  leave the running statistics, which eval-mode features use, to the clean
  views.
"""
import contextlib
from typing import Iterator

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from ...utils.validation import check_int


# mmcv's ``build_norm_layer`` looks names up in the current scope's registry
# and its parents: the root registry makes ``norm_cfg=dict(type='SplitBN')``
# work in mmpretrain's and mmdet's models alike, as mmcv's own norms do.
@MODELS.register_module('SplitBN')
class SplitBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d over ``num_splits`` sub-batches in training mode.

    Sample ``n`` of a batch of ``N`` belongs to split ``n % num_splits``
    (every split holds ``N / num_splits`` samples); each split is normalised
    with its own mean and variance. The running statistics move by the mean
    of the splits' statistics (the same momentum rule as BatchNorm2d). In
    eval mode, or with ``num_splits=1``, it is ``nn.BatchNorm2d``; its
    parameters and buffers have BatchNorm2d's names and shapes.

    Args:
        num_features (int): channels.
        num_splits (int): sub-batches ``G >= 1``; the per-process batch must
            be a multiple of it. Defaults to 8 (MoCo's CIFAR demo, Un-Mix).
        **kwargs: as ``nn.BatchNorm2d`` (``eps``, ``momentum``, ``affine``,
            ``track_running_stats``).
    """

    def __init__(self, num_features: int, num_splits: int = 8,
                 **kwargs) -> None:
        super().__init__(num_features, **kwargs)
        self.num_splits = check_int(type(self).__name__, 'num_splits',
                                    num_splits)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = self.num_splits
        if not self.training or g == 1:
            return super().forward(x)
        self._check_input_dim(x)
        n, c = x.shape[:2]
        if n % g:
            raise ValueError(
                f'SplitBN: a batch of {n} samples cannot be split into '
                f'num_splits={g} equal groups; use a per-process batch size '
                f'that is a multiple of {g} or set norm_cfg.num_splits to '
                'a divisor of it')
        track = self.track_running_stats
        momentum = 0.0 if self.momentum is None else self.momentum
        mean = var = None
        if track:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked)
            mean = self.running_mean.repeat(g)
            var = self.running_var.repeat(g)
        # (n, c, ...) -> (n / g, g * c, ...): channel block j of row r is
        # sample r * g + j, so split j is every g-th sample.
        out = F.batch_norm(
            x.reshape(n // g, g * c, *x.shape[2:]), mean, var,
            self.weight.repeat(g) if self.affine else None,
            self.bias.repeat(g) if self.affine else None, True, momentum,
            self.eps)
        if track:
            with torch.no_grad():
                self.running_mean.copy_(mean.view(g, c).mean(0))
                self.running_var.copy_(var.view(g, c).mean(0))
        return out.view_as(x)

    def extra_repr(self) -> str:
        return f'{super().extra_repr()}, num_splits={self.num_splits}'


@contextlib.contextmanager
def running_stats_frozen(*modules: nn.Module) -> Iterator[None]:
    """Within the block, every BatchNorm layer of ``modules`` that is in
    training mode normalises with the batch's own statistics (gradients
    flow through them as usual) and writes no running statistics
    (``running_mean``, ``running_var``, ``num_batches_tracked``).

    Eval-mode layers are unchanged (they read the running statistics).
    """
    layers = [
        m for module in modules for m in module.modules()
        if isinstance(m, _BatchNorm) and m.track_running_stats
    ]
    for m in layers:
        m.track_running_stats = False
    try:
        yield
    finally:
        for m in layers:
            m.track_running_stats = True
