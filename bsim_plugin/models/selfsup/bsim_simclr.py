from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmpretrain.models.selfsup import SimCLR
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..heads.soft_target_contrastive_head import SoftTargetContrastiveHead
from ..utils.dist import gather_with_grad
from ..utils.targets import mixture_targets
from .bsim_mixin import BSIMMixin


@MODELS.register_module()
class BSIMSimCLR(BSIMMixin, SimCLR):
    r"""SimCLR with BSIM's spurious-positive pairs.

    `Beyond Single Instance Multi-view Unsupervised Representation Learning
    <https://arxiv.org/abs/2011.13356>`_ on top of mmpretrain's
    :class:`~mmpretrain.models.SimCLR`.

    The data preprocessor (:class:`MixtureDataPreprocessor`) appends a mixture
    ``x_m = lam * v1_i + (1 - lam) * v1_j`` of two instances to the two clean
    views. The loss is

    .. math:: L = L_{SimCLR} + w \cdot L_{BSIM}

    where :math:`L_{SimCLR}` is SimCLR's unchanged NT-Xent on the clean views
    and :math:`L_{BSIM}` is a soft-target cross-entropy of the mixture's
    embedding against all ``2N`` clean embeddings of the (global) batch, with
    weight ``lam`` on instance ``i``'s second view and ``1 - lam`` on
    instance ``j``'s. The mixture is encoded in its own forward pass, so the
    clean views see the same BatchNorm statistics as in plain SimCLR. Under
    DDP, embeddings are gathered as in mmpretrain's SimCLR (``GatherLayer``):
    every process computes the loss of the global batch.

    Args:
        backbone (dict): backbone config.
        neck (dict): projection neck config.
        head (dict): a :class:`SoftTargetContrastiveHead` config.
        bsim_weight (float): :math:`w` >= 0. ``0`` gives plain SimCLR (no
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
                 bsim_weight: float = 1.0,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        bsim_weight = self.check_bsim_weight(bsim_weight)
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            data_preprocessor=self.default_data_preprocessor(
                data_preprocessor),
            init_cfg=init_cfg)
        if not isinstance(self.head, SoftTargetContrastiveHead):
            raise TypeError(
                'BSIMSimCLR: head must be a SoftTargetContrastiveHead, got '
                f'{type(self.head).__name__}')
        self.check_mixture_preprocessor(bsim_weight)
        self.bsim_weight = bsim_weight

    def project(self, images: torch.Tensor) -> torch.Tensor:
        """L2-normalised projection ``z`` of a batch of images."""
        z = self.neck(self.backbone(images))[0]
        return F.normalize(z, dim=1)

    def loss(self, inputs: List[torch.Tensor],
             data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """Compute the SimCLR and BSIM terms.

        Args:
            inputs (List[Tensor]): ``[v1, v2]``, ``[v1, v2, mixture]``
                (batch form) or ``[v1, v2, mixture, partner key views]``
                (pipeline form), each ``(n, C, H, W)`` (``n`` the local
                batch size).
            data_samples (List[DataSample]): carry ``mix_lam`` and
                ``mix_partner`` when a mixture is given.

        Returns:
            Dict[str, Tensor]: ``loss_sim`` and, if ``bsim_weight > 0``,
            ``loss_bsim`` (already multiplied by the weight).
        """
        # Interleave the views as SimCLR does: rows 2i, 2i+1 are instance i.
        clean = torch.stack(inputs[:2], 1).flatten(0, 1)
        z = gather_with_grad(self.project(clean))  # (2N, d)
        sim = z @ z.t()
        mask, pos_idx, neg_mask = self._create_buffer(z.size(0) // 2,
                                                      sim.device)
        sim = torch.masked_select(sim, mask == 1).reshape(sim.size(0), -1)
        pos = sim[pos_idx].unsqueeze(1)
        neg = torch.masked_select(sim, neg_mask == 1).reshape(sim.size(0), -1)
        losses = dict(loss_sim=self.head.loss_per_positive(pos, neg))
        if self.bsim_weight == 0:
            return losses

        view = self.mixture_view(inputs, data_samples)
        z_mix = gather_with_grad(self.project(view.images))  # (N, d)
        rows = torch.arange(z_mix.size(0), device=z.device)
        # Batch form: the partner's key is its second view, row 2j + 1 of z.
        # Pipeline form: the partners' key views are encoded and appended.
        keys, partner_cols = z, 2 * view.partner + 1
        if view.partner_views is not None:
            keys = torch.cat(
                [z, gather_with_grad(self.project(view.partner_views))])
            partner_cols = z.size(0) + view.partner
        target = mixture_targets(view.lam, 2 * rows + 1, partner_cols,
                                 keys.size(0), z.dtype)
        losses['loss_bsim'] = self.bsim_weight * self.head.loss(
            z_mix @ keys.t(), target)
        return losses
