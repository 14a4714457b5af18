from typing import Dict, List, Optional, Union

import torch
from mmpretrain.models.selfsup import MoCo
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...utils.validation import check_int
from ..utils.batch_norm import running_stats_frozen
from ..utils.key_set import columns_logits, queue_key_set
from .init_checks import checked_bsim_weight, init_bsim
from .mixture_view import MixtureViewMixin
from .moco_keys import MoCoKeysMixin


@MODELS.register_module()
class BSIMMoCo(MixtureViewMixin, MoCoKeysMixin, MoCo):
    r"""MoCo v2 with BSIM's spurious-positive pairs.

    `Beyond Single Instance Multi-view Unsupervised Representation Learning
    <https://arxiv.org/abs/2011.13356>`_ on top of mmpretrain's
    :class:`~mmpretrain.models.MoCo` (v2 when built with the v2 neck and
    augmentations). The momentum encoder, the ``queue`` buffers and
    ``_dequeue_and_enqueue`` are MoCo's own, so checkpoints hold MoCo's keys
    and resume exactly.

    The data preprocessor (:class:`MixtureDataPreprocessor`) appends a
    mixture ``x_m = lam * v1_i + (1 - lam) * v1_j`` of two query views. The
    loss is :math:`L = L_{MoCo} + w \cdot L_{BSIM}` with

    .. math:: L_{BSIM} = \lambda\, CE([q_m k_i, q_m Q] / \tau, 0) +
              (1 - \lambda)\, CE([q_m k_j, q_m Q] / \tau, 0)

    where :math:`q_m` is the mixture's query (its own forward pass),
    :math:`k_i, k_j` the momentum keys of the two sources' second views and
    :math:`Q` the queue; both terms go through
    :meth:`SoftTargetContrastiveHead.loss_per_positive` on the key set
    ``[batch keys | queue]``. Only the clean keys are enqueued. The loss is
    per process, as MoCo's (DDP averages the gradients); a partner is always
    in the local batch. The mixture (and, in the pipeline form, the
    partners' key views) are encoded with their own batch statistics and
    write no BatchNorm running statistics. On one process, give the
    backbone ``norm_cfg=dict(type='SplitBN')``: MoCo's batch shuffle is a
    plain permutation there (see :class:`SplitBatchNorm2d`).

    Args:
        backbone (dict): backbone config.
        neck (dict): projection neck config.
        head (dict): a :class:`SoftTargetContrastiveHead` config (it equals
            mmpretrain's ``ContrastiveHead`` for one positive).
        queue_len (int): number of keys in the queue. Defaults to 65536.
        feat_dim (int): key dimension. Defaults to 128.
        momentum (float): momentum encoder update, as mmpretrain's MoCo
            (``1 - m`` of the MoCo paper). Defaults to 0.001.
        bsim_weight (float): :math:`w` >= 0. ``0`` gives plain MoCo (no
            mixture is encoded). Defaults to 1.0.
        pretrained (str, optional): checkpoint to initialise from.
        data_preprocessor (dict, optional): defaults to
            ``dict(type='MixtureDataPreprocessor')``.
        init_cfg (dict | List[dict], optional): initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 queue_len: int = 65536,
                 feat_dim: int = 128,
                 momentum: float = 0.001,
                 bsim_weight: float = 1.0,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        bsim_weight = checked_bsim_weight(type(self).__name__, bsim_weight)
        check_int(type(self).__name__, 'queue_len', queue_len)
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            queue_len=queue_len,
            feat_dim=feat_dim,
            momentum=momentum,
            pretrained=pretrained,
            data_preprocessor=self.default_data_preprocessor(
                data_preprocessor),
            init_cfg=init_cfg)
        init_bsim(self, bsim_weight)

    def loss(self, inputs: List[torch.Tensor],
             data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """Compute the MoCo and BSIM terms.

        Args:
            inputs (List[Tensor]): ``[query view, key view]``,
                ``[query view, key view, mixture]`` (batch form) or
                ``[..., mixture, partner key views]`` (pipeline form), each
                ``(n, C, H, W)``.
            data_samples (List[DataSample]): carry ``mix_lam`` and
                ``mix_partner`` when a mixture is given.

        Returns:
            Dict[str, Tensor]: ``loss_sim`` (MoCo's loss) and, if
            ``bsim_weight > 0``, ``loss_bsim`` (already weighted).
        """
        self.check_queue_fits(inputs[0].size(0))
        q = self.query(inputs[0])
        self.update_momentum_encoder()
        k = self.encode_keys(inputs[1])
        n = k.size(0)
        rows = torch.arange(n, device=q.device)
        view = None
        batch_keys = k
        if self.bsim_weight > 0:
            view = self.mixture_view(inputs, data_samples, gather=False)
            if view.partner_views is not None:
                # Pipeline form: the partners' keys follow the batch's.
                with running_stats_frozen(self):
                    partner_keys = self.encode_keys(view.partner_views)
                batch_keys = torch.cat([k, partner_keys])
        # [batch keys | queue]: the queue's negatives are columns nk:.
        keys = queue_key_set(batch_keys, self.queue.clone())
        nk = batch_keys.size(0)
        logits = q @ keys.t()
        losses = dict(
            loss_sim=self.head.loss_per_positive(
                columns_logits(logits, rows), logits[:, nk:]))
        if view is not None:
            partner_cols = view.partner + (n if nk > n else 0)
            with running_stats_frozen(self):
                q_mix = self.query(view.images)
            mix_logits = q_mix @ keys.t()
            losses['loss_bsim'] = self.bsim_weight * \
                self.head.loss_per_positive(
                    columns_logits(mix_logits, rows, partner_cols),
                    mix_logits[:, nk:],
                    weights=torch.stack([view.lam, 1 - view.lam], dim=1))
        # Only the clean keys enter the queue.
        self._dequeue_and_enqueue(k)
        return losses
