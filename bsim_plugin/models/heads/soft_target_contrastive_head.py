import math
from typing import List, Optional, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from ...utils.validation import check_number

MARGIN_TYPES = ('cosine', 'arc')


@MODELS.register_module()
class SoftTargetContrastiveHead(BaseModule):
    r"""Contrastive cross-entropy against a target distribution over keys.

    All similarities given to this head are cosines (L2-normalised
    embeddings); the head divides by the temperature :math:`\tau`. It has two
    forms, which agree with mmpretrain's ``ContrastiveHead`` when there is a
    single positive with weight 1:

    * :meth:`loss` -- one softmax over all keys with a soft target ``y``
      (rows sum to 1, or class indices for one-hot targets):

      .. math:: L = \frac{1}{M}\sum_m -\sum_k y_{mk}
                \log \mathrm{softmax}_k(s_{mk} / \tau)

      BSIM on SimCLR (``lam`` on instance ``i``, ``1 - lam`` on its partner)
      and SANE's refined labels use this form.

    * :meth:`loss_per_positive` -- each of ``P`` positives competes only with
      the shared negatives, and the ``P`` cross-entropies are weighted:

      .. math:: L = \frac{1}{M}\sum_m \sum_p w_{mp}
                \left[\log\left(e^{\phi(s^+_{mp})/\tau} +
                \sum_k e^{s^-_{mk}/\tau}\right) - \phi(s^+_{mp})/\tau\right]

      with the decision boundary :math:`\phi` applied to positives only:
      cosine margin :math:`\phi(s) = s - m`, arc margin
      :math:`\phi(s) = \cos(\arccos s + m)` (with ArcFace's monotonic
      fallback, see :meth:`apply_margin`); ``m = 0`` leaves them unchanged.
      MoCo (``P = 1``), BSIM on MoCo (``P = 2``, weights ``lam, 1 - lam``) and
      InterCLR's lenient margin use this form. The negatives' log-sum-exp is
      computed once and shared by all positives.

    Args:
        temperature (float): :math:`\tau` > 0. Defaults to 0.1.
        margin (float): :math:`m`, applied by :meth:`loss_per_positive`;
            negative values make the boundary lenient. Defaults to 0.
        margin_type (str): ``'cosine'`` or ``'arc'``. Defaults to
            ``'cosine'``.
        loss_weight (float): factor on the returned loss. Defaults to 1.
        init_cfg (dict | List[dict], optional): initialisation config.
    """

    def __init__(self,
                 temperature: float = 0.1,
                 margin: float = 0.0,
                 margin_type: str = 'cosine',
                 loss_weight: float = 1.0,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        owner = 'SoftTargetContrastiveHead'
        temperature = check_number(owner, 'temperature', temperature, gt=0)
        if margin_type not in MARGIN_TYPES:
            raise ValueError('SoftTargetContrastiveHead: margin_type must be '
                             f'one of {MARGIN_TYPES}, got {margin_type!r}')
        margin = check_number(owner, 'margin', margin)
        loss_weight = check_number(owner, 'loss_weight', loss_weight, ge=0)
        self.temperature = float(temperature)
        self.margin = float(margin)
        self.margin_type = margin_type
        self.loss_weight = float(loss_weight)

    def apply_margin(self, pos: torch.Tensor) -> torch.Tensor:
        """The decision boundary on positive cosines.

        The arc margin keeps the boundary monotonic where ``theta + m``
        leaves ``[0, pi]`` (ArcFace's fallback, as InterCLR's code): for
        ``m < 0``, ``cos(theta + m)`` while ``cos theta < cos m``, else
        ``cos theta + m sin m``; for ``m > 0``, ``cos(theta + m)`` while
        ``cos theta > cos(pi - m)``, else ``cos theta - m sin m``.
        """
        m = self.margin
        if m == 0:
            return pos
        if self.margin_type == 'cosine':
            return pos - m
        # Clamp keeps acos differentiable at +-1.
        arc = torch.cos(torch.acos(pos.clamp(-1 + 1e-7, 1 - 1e-7)) + m)
        if m < 0:
            inside = pos < math.cos(m)
            fallback = pos + m * math.sin(m)
        else:
            inside = pos > math.cos(math.pi - m)
            fallback = pos - m * math.sin(m)
        return torch.where(inside, arc, fallback)

    def loss(self, logits: torch.Tensor,
             target: torch.Tensor) -> torch.Tensor:
        """One softmax over all keys, soft or one-hot target.

        Args:
            logits (Tensor): ``(M, K)`` cosine similarities to the keys.
            target (Tensor): ``(M, K)`` float distribution per row, or
                ``(M,)`` long key index per row (one-hot).

        Returns:
            Tensor: the scalar loss (mean over rows, times ``loss_weight``).
        """
        if logits.dim() != 2:
            raise ValueError('logits must be (M, K), got shape '
                             f'{tuple(logits.shape)}')
        log_prob = F.log_softmax(logits / self.temperature, dim=1)
        if target.dtype == torch.long:
            if target.shape != logits.shape[:1]:
                raise ValueError(f'index target must be ({logits.size(0)},), '
                                 f'got shape {tuple(target.shape)}')
            loss = -log_prob.gather(1, target[:, None]).squeeze(1)
        else:
            if target.shape != logits.shape:
                raise ValueError('soft target must have the shape of logits '
                                 f'{tuple(logits.shape)}, got '
                                 f'{tuple(target.shape)}')
            loss = -(target * log_prob).sum(dim=1)
        return self.loss_weight * loss.mean()

    def loss_per_positive(self,
                          pos: torch.Tensor,
                          neg: torch.Tensor,
                          weights: Optional[torch.Tensor] = None
                          ) -> torch.Tensor:
        """Each positive in its own softmax against shared negatives.

        Args:
            pos (Tensor): ``(M, P)`` (or ``(M,)``) positive cosines.
            neg (Tensor): ``(M, K)`` negative cosines, ``K >= 1``.
            weights (Tensor, optional): ``(M, P)`` weight of each positive's
                cross-entropy; defaults to ``1 / P`` each.

        Returns:
            Tensor: the scalar loss (mean over rows, times ``loss_weight``).
        """
        if pos.dim() == 1:
            pos = pos[:, None]
        if neg.dim() != 2 or neg.size(0) != pos.size(0) or neg.size(1) < 1:
            raise ValueError(f'neg must be ({pos.size(0)}, K>=1), got shape '
                             f'{tuple(neg.shape)}')
        pos = self.apply_margin(pos) / self.temperature
        neg_lse = torch.logsumexp(neg / self.temperature, dim=1, keepdim=True)
        per_positive = torch.logaddexp(pos, neg_lse) - pos
        if weights is None:
            loss = per_positive.mean(dim=1)
        else:
            if weights.shape != pos.shape:
                raise ValueError('weights must have the shape of pos '
                                 f'{tuple(pos.shape)}, got '
                                 f'{tuple(weights.shape)}')
            loss = (weights.to(per_positive.dtype) * per_positive).sum(dim=1)
        return self.loss_weight * loss.mean()
