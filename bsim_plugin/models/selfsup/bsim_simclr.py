from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmpretrain.models.selfsup import SimCLR
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..utils.batch_norm import running_stats_frozen
from ..utils.dist import gather_with_grad
from ..utils.targets import mixture_targets
from .init_checks import checked_bsim_weight, init_bsim
from .mixture_view import MixtureViewMixin


@MODELS.register_module()
class BSIMSimCLR(MixtureViewMixin, SimCLR):
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
    embedding (a query made of first views) against the ``N`` second-view
    embeddings of the (global) batch, with target ``lam`` on instance
    ``i``'s and ``1 - lam`` on instance ``j``'s and the other second views
    as negatives (i-Mix's N-pair form, Un-Mix). The mixture's sources
    ``v1_i`` and ``v1_j`` are not in its key set, so it is never pushed away
    from them. The mixture is encoded in its own forward pass, normalised
    with its own batch statistics without writing BatchNorm's running
    statistics: the clean views see, and leave, the same statistics as in
    plain SimCLR. Under DDP, embeddings are gathered as in mmpretrain's
    SimCLR (``GatherLayer``): every process computes the loss of the global
    batch.

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
        bsim_weight = checked_bsim_weight(type(self).__name__, bsim_weight)
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            data_preprocessor=self.default_data_preprocessor(
                data_preprocessor),
            init_cfg=init_cfg)
        init_bsim(self, bsim_weight)

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
        # Keys: the second views, row 2g + 1 of z for instance g.
        keys, partner_cols = z[1::2], view.partner
        with running_stats_frozen(self):
            z_mix = gather_with_grad(self.project(view.images))  # (N, d)
            if view.partner_views is not None:
                # Pipeline form: the partners' key views follow the batch's.
                keys = torch.cat(
                    [keys, gather_with_grad(self.project(view.partner_views))])
                partner_cols = z_mix.size(0) + view.partner
        rows = torch.arange(z_mix.size(0), device=z.device)
        target = mixture_targets(view.lam, rows, partner_cols, keys.size(0),
                                 z.dtype)
        losses['loss_bsim'] = self.bsim_weight * self.head.loss(
            z_mix @ keys.t(), target)
        return losses
