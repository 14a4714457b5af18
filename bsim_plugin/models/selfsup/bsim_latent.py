r"""BSIM on the latent-prediction methods: BYOL and SimSiam.

Both predict a target projection of the other view with the online
predictor (mmpretrain's ``LatentPredictHead``). BSIM adds the mixture's
prediction ``p_m`` against the targets of both sources' second views:

.. math:: L_{BSIM} = c \left[\lambda\, \ell(p_m, t_i) +
          (1 - \lambda)\, \ell(p_m, t_j)\right]

with :math:`\ell` the head's own loss module (mmpretrain's configs:
``CosineSimilarityLoss``, :math:`-\cos`) and :math:`c` the factor the base
puts on each of its two predictions (mmpretrain's BYOL ``2``, so that
:math:`c \ell = 2 - 2\cos` up to a constant as in the BYOL paper; SimSiam
``1/2``), so the mixture's prediction counts as much as a clean view's.
Targets: BYOL's target network on ``v2`` (no gradient); SimSiam's online
projection of ``v2`` with stop-gradient. In the pipeline form
(:class:`MixWithPartner`) the partners' key views come with the batch and
their targets are computed the same way.
"""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmpretrain.models.losses import CosineSimilarityLoss
from mmpretrain.models.selfsup import BYOL, SimSiam
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..utils.batch_norm import running_stats_frozen
from .init_checks import checked_bsim_weight, init_bsim, require_latent_head
from .mixture_view import MixtureViewMixin


def weighted_mean(loss_module: CosineSimilarityLoss, pred: torch.Tensor,
                  target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``mean_i weight_i * loss(pred_i, target_i)`` with the head's loss.

    ``CosineSimilarityLoss`` with a mask returns the weighted average
    ``sum(w * l) / sum(w)``; scaling by ``sum(w) / N`` makes it the mean.
    """
    total = weight.sum()
    if total <= 0:  # every sample has no share here
        return pred.sum() * 0
    return loss_module(pred, target, mask=weight) * total / weight.numel()


class LatentBSIMMixin(MixtureViewMixin):
    """The BSIM term of BYOL and SimSiam (see the module docstring).

    Subclasses set :attr:`pair_factor`, the factor the base class puts on
    each of its two predictions.
    """

    pair_factor: float = 1.0

    def mixture_loss(self, inputs: List[torch.Tensor],
                     data_samples: List[DataSample],
                     target: torch.Tensor) -> torch.Tensor:
        """Weighted BSIM term of the batch's mixture view.

        The mixture (and the partners' key views of the pipeline form) are
        encoded with their own batch statistics and write no BatchNorm
        running statistics (:func:`running_stats_frozen`).

        Args:
            inputs (List[Tensor]): the views, the mixture after the clean
                ones.
            data_samples (List[DataSample]): the mixing information.
            target (Tensor): ``(n, d)`` targets of the batch's second views
                (no gradient flows into them). In the pipeline form the
                partners' targets are computed by :meth:`partner_targets`
                and appended.
        """
        view = self.mixture_view(inputs, data_samples, gather=False)
        partner = view.partner
        with running_stats_frozen(self):
            if view.partner_views is not None:
                partner = partner + target.size(0)
                target = torch.cat(
                    [target, self.partner_targets(view.partner_views)])
            z_mix = self.neck(self.backbone(view.images))[0]
            pred = self.head.predictor([z_mix])[0]
        target = target.detach()
        loss = self.head.loss_module
        lam = view.lam.to(pred.dtype)
        return self.bsim_weight * self.pair_factor * (
            weighted_mean(loss, pred, target[:len(pred)], lam) +
            weighted_mean(loss, pred, target[partner], 1 - lam))

    @torch.no_grad()
    def partner_targets(self, images: torch.Tensor) -> torch.Tensor:
        """Targets of the partners' key views (pipeline form)."""
        raise NotImplementedError


@MODELS.register_module()
class BSIMBYOL(LatentBSIMMixin, BYOL):
    r"""BYOL with BSIM's spurious-positive pairs.

    On top of mmpretrain's :class:`~mmpretrain.models.BYOL` (target network
    as ``CosineEMA``, predictor in the head). Loss
    :math:`L = L_{BYOL} + w \cdot L_{BSIM}`; the mixture is encoded by the
    online network in its own pass. The loss is per process, as BYOL's.

    Args:
        backbone, neck, head, base_momentum, pretrained, init_cfg: as
            mmpretrain's ``BYOL``.
        bsim_weight (float): :math:`w` >= 0; ``0`` gives plain BYOL.
            Defaults to 1.0.
        data_preprocessor (dict, optional): defaults to
            ``dict(type='MixtureDataPreprocessor')``.
    """

    pair_factor = 2.0

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 base_momentum: float = 0.004,
                 bsim_weight: float = 1.0,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        bsim_weight = checked_bsim_weight(type(self).__name__, bsim_weight)
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            base_momentum=base_momentum,
            pretrained=pretrained,
            data_preprocessor=self.default_data_preprocessor(
                data_preprocessor),
            init_cfg=init_cfg)
        init_bsim(self, bsim_weight, require_latent_head)

    @torch.no_grad()
    def partner_targets(self, images: torch.Tensor) -> torch.Tensor:
        return self.target_net(images)[0]

    def loss(self, inputs: List[torch.Tensor],
             data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """BYOL's symmetric loss (``loss_sim``) plus ``loss_bsim``.

        Args:
            inputs (List[Tensor]): ``[v1, v2]`` or ``[v1, v2, mixture]``.
            data_samples (List[DataSample]): carry the mixing information.
        """
        v1, v2 = inputs[0], inputs[1]
        z1 = self.neck(self.backbone(v1))[0]
        z2 = self.neck(self.backbone(v2))[0]
        with torch.no_grad():
            self.target_net.update_parameters(
                nn.Sequential(self.backbone, self.neck))
            t1 = self.target_net(v1)[0]
            t2 = self.target_net(v2)[0]
        losses = dict(loss_sim=self.pair_factor * (
            self.head.loss(z1, t2) + self.head.loss(z2, t1)))
        if self.bsim_weight > 0:
            losses['loss_bsim'] = self.mixture_loss(inputs, data_samples, t2)
        return losses


@MODELS.register_module()
class BSIMSimSiam(LatentBSIMMixin, SimSiam):
    r"""SimSiam with BSIM's spurious-positive pairs.

    On top of mmpretrain's :class:`~mmpretrain.models.SimSiam` (stop-gradient
    on the projection targets; keep mmpretrain's ``SimSiamHook`` for the
    predictor's fixed learning rate). Loss
    :math:`L = L_{SimSiam} + w \cdot L_{BSIM}`; the targets of the mixture
    are the stop-gradient projections of both sources' second views.

    Args:
        backbone, neck, head, pretrained, init_cfg: as mmpretrain's
            ``SimSiam``.
        bsim_weight (float): :math:`w` >= 0; ``0`` gives plain SimSiam.
            Defaults to 1.0.
        data_preprocessor (dict, optional): defaults to
            ``dict(type='MixtureDataPreprocessor')``.
    """

    pair_factor = 0.5

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 bsim_weight: float = 1.0,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        bsim_weight = checked_bsim_weight(type(self).__name__, bsim_weight)
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            data_preprocessor=self.default_data_preprocessor(
                data_preprocessor),
            init_cfg=init_cfg)
        init_bsim(self, bsim_weight, require_latent_head)

    @torch.no_grad()
    def partner_targets(self, images: torch.Tensor) -> torch.Tensor:
        return self.neck(self.backbone(images))[0]

    def loss(self, inputs: List[torch.Tensor],
             data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """SimSiam's symmetric loss (``loss_sim``) plus ``loss_bsim``."""
        z1 = self.neck(self.backbone(inputs[0]))[0]
        z2 = self.neck(self.backbone(inputs[1]))[0]
        losses = dict(loss_sim=self.pair_factor * (
            self.head.loss(z1, z2) + self.head.loss(z2, z1)))
        if self.bsim_weight > 0:
            losses['loss_bsim'] = self.mixture_loss(inputs, data_samples, z2)
        return losses
