import math
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.dist import all_gather, get_rank
from mmpretrain.models.selfsup import MoCo
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...utils.validation import check_int, check_number
from ..utils.batch_norm import running_stats_frozen
from ..utils.key_set import queue_key_set
from ..utils.mixer import mixup
from ..utils.targets import refine_labels
from .init_checks import checked_progress, require_soft_target_head
from .mixture_view import MixtureViewMixin
from .moco_keys import MoCoKeysMixin

CLEAN_TARGETS = ('onehot', 'refined')


@MODELS.register_module()
class SANE(MixtureViewMixin, MoCoKeysMixin, MoCo):
    r"""SANE: self-labeling refinery and momentum mixup on MoCo v2.

    `A Theory-Driven Self-Labeling Refinement Method for Contrastive
    Representation Learning <https://arxiv.org/abs/2106.14749>`_
    (NeurIPS 2021), on mmpretrain's :class:`~mmpretrain.models.MoCo`: the
    momentum encoder, ``queue`` buffers and ``_dequeue_and_enqueue`` are
    MoCo's own.

    Every query is scored against the key set ``B = [global batch keys |
    queue]`` (the batch first, so other instances' keys are negatives and
    all labels live on one axis). Per step, without gradient, the
    self-labeling refinery (:func:`refine_labels`) turns each sample's
    one-hot label into ``y_bar`` from its positive key's similarities to
    ``B`` at temperature ``tau * tau'``, with a strength ``mu`` that follows
    a cosine ramp from ``mu_start`` to ``mu_end`` over training (from
    ``train_progress = (iter, max_iters)``, which :class:`TrainProgressHook`
    sets from the runner before every iteration, so a resumed run continues
    it exactly). Momentum mixup mixes each query image with its partner's
    key-side image, ``x' = theta x_i + (1 - theta) x~_k`` with
    ``theta ~ Beta(kappa, kappa)`` (the data preprocessor's mixer with
    ``mix_views=(0, 1)``), labelled ``theta y_bar_i + (1 - theta) y_bar_k``.
    The loss is

    .. math:: L = (1 - \lambda)\, L(x, y) + \lambda\, L(x', y')

    with :math:`L` :meth:`SoftTargetContrastiveHead.loss` over ``B`` and
    ``y`` one-hot (``clean_target='onehot'``, the spec) or ``y_bar``
    (``'refined'``). With ``mu = 0`` and ``mixup_weight = 0`` it is MoCo v2
    on the key set ``B``. The mixed query is encoded with its own batch
    statistics and writes no BatchNorm running statistics. On one process,
    give the backbone ``norm_cfg=dict(type='SplitBN')`` (see
    :class:`SplitBatchNorm2d`).

    The "strong" variant of the paper mixes a third, strongly augmented view
    instead of the query view: a three-view pipeline and
    ``mix_views=(2, 1)``.

    Args:
        backbone (dict): backbone config.
        neck (dict): projection neck config.
        head (dict): a :class:`SoftTargetContrastiveHead` config; its
            temperature is ``tau``.
        queue_len (int): keys in the queue. Defaults to 4096.
        feat_dim (int): key dimension. Defaults to 128.
        momentum (float): momentum encoder update, as mmpretrain's MoCo
            (``1 - m``). Defaults to 0.01.
        label_temperature (float): ``tau'`` > 0; the refinery's temperature
            is ``tau * tau'``. Defaults to 0.8 (the paper's CIFAR value).
        mu_start (float): ``m1 >= 0``, the refinery's strength at the first
            iteration. Defaults to 0.
        mu_end (float): ``m2 >= 0``, its strength at the last. Defaults to 1.
        mixup_weight (float): ``lambda`` in [0, 1]; 0 encodes no mixture.
            Defaults to 0.5.
        clean_target (str): label of the clean query, ``'onehot'`` or
            ``'refined'``. Defaults to ``'onehot'``.
        pretrained (str, optional): checkpoint to initialise from.
        data_preprocessor (dict, optional): defaults to a
            ``MixtureDataPreprocessor`` with ``mix_views=(0, 1)`` and an
            ``InstanceMixer(alpha=2.0, pairing='random')``.
        init_cfg (dict | List[dict], optional): initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 queue_len: int = 4096,
                 feat_dim: int = 128,
                 momentum: float = 0.01,
                 label_temperature: float = 0.8,
                 mu_start: float = 0.0,
                 mu_end: float = 1.0,
                 mixup_weight: float = 0.5,
                 clean_target: str = 'onehot',
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        name = type(self).__name__
        self.label_temperature = check_number(
            name, 'label_temperature', label_temperature, gt=0)
        self.mu_start = check_number(name, 'mu_start', mu_start, ge=0)
        self.mu_end = check_number(name, 'mu_end', mu_end, ge=0)
        self.mixup_weight = check_number(
            name, 'mixup_weight', mixup_weight, ge=0, le=1)
        if clean_target not in CLEAN_TARGETS:
            raise ValueError(f'{name}: clean_target must be one of '
                             f'{CLEAN_TARGETS}, got '
                             f'clean_target={clean_target!r}')
        self.clean_target = clean_target
        check_int(name, 'queue_len', queue_len)
        if data_preprocessor is None:
            data_preprocessor = dict(
                type='MixtureDataPreprocessor',
                mixer=dict(type='InstanceMixer', alpha=2.0,
                           pairing='random'),
                mix_views=(0, 1))
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            queue_len=queue_len,
            feat_dim=feat_dim,
            momentum=momentum,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        require_soft_target_head(self)
        self.check_mixture_preprocessor(self.mixup_weight, 'mixup_weight')
        self.train_progress = None  # (iter, max_iters): TrainProgressHook
        if self.mixup_weight > 0:
            self.check_momentum_mixup(self.data_preprocessor)

    def check_momentum_mixup(self, preprocessor) -> None:
        """Momentum mixup mixes a query-side view with the partner's key
        view, in the batch."""
        name = type(self).__name__
        if preprocessor.mixer is None:
            raise TypeError(
                f'{name}: momentum mixup mixes in the batch; the data '
                'preprocessor needs a mixer, got mixer=None')
        own, other = preprocessor.mix_views
        if other != 1 or own == 1:
            raise ValueError(
                f'{name}: momentum mixup mixes a query view with the '
                "partner's key view (view 1): mix_views must be (0, 1), or "
                f'(2, 1) for a third view, got mix_views={(own, other)}')

    def current_mu(self) -> float:
        """The refinery's strength now: a cosine ramp from ``mu_start`` at
        iteration 0 to ``mu_end`` at ``max_iters``, from
        ``train_progress``."""
        it, max_iters = checked_progress(self)
        progress = min(it / max_iters, 1.0) if max_iters else 0.0
        return self.mu_end - (self.mu_end - self.mu_start) * (
            1 + math.cos(math.pi * progress)) / 2

    @torch.no_grad()
    def global_keys(self, k: torch.Tensor
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The keys of the global batch (rank order) and the columns of
        this process's own keys among them."""
        keys = torch.cat(all_gather(k), dim=0)
        own = torch.arange(k.size(0), device=k.device) + get_rank() * k.size(
            0)
        return keys, own

    def loss(self, inputs: List[torch.Tensor],
             data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """The vanilla term over the key set and the momentum-mixup term.

        Args:
            inputs (List[Tensor]): ``[query view, key view(, third view),
                mixture]``, each ``(n, C, H, W)``; no mixture when
                ``mixup_weight = 0``.
            data_samples (List[DataSample]): carry ``mix_lam`` (``theta``)
                and ``mix_partner`` when a mixture is given.

        Returns:
            Dict[str, Tensor]: ``loss_sim`` (the vanilla term) and, if
            ``mixup_weight > 0``, ``loss_mm``, both already weighted; and
            ``sane_mu`` (logged, not a loss).
        """
        self.check_queue_fits(inputs[0].size(0))
        q = self.query(inputs[0])
        self.update_momentum_encoder()
        k = self.encode_keys(inputs[1])
        batch_keys, own_cols = self.global_keys(k)
        keys = queue_key_set(batch_keys, self.queue.clone())
        mu = self.current_mu()
        refined = None
        if self.clean_target == 'refined' or self.mixup_weight > 0:
            refined = refine_labels(
                k @ keys.t(), own_cols, mu,
                self.head.temperature * self.label_temperature)
        clean = refined.labels if self.clean_target == 'refined' \
            else own_cols
        losses = dict(loss_sim=(1 - self.mixup_weight) *
                      self.head.loss(q @ keys.t(), clean))
        if self.mixup_weight > 0:
            view = self.mixture_view(inputs, data_samples, gather=False)
            if view.partner_views is not None:
                raise ValueError(
                    f'{type(self).__name__}: momentum mixup mixes in the '
                    'batch (MixtureDataPreprocessor with a mixer), not in '
                    'the pipeline (MixWithPartner)')
            target = mixup(refined.labels, refined.labels, view.lam,
                           view.partner)
            # The mixed query normalises with its own batch statistics and
            # leaves BatchNorm's running statistics to the clean views.
            with running_stats_frozen(self):
                q_mix = self.query(view.images)
            losses['loss_mm'] = self.mixup_weight * self.head.loss(
                q_mix @ keys.t(), target)
        losses['sane_mu'] = torch.tensor(mu, device=q.device)
        # Only the clean keys enter the queue.
        self._dequeue_and_enqueue(k)
        return losses
