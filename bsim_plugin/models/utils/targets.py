"""Targets over a key set, shared by the algorithms that mix instances.

A mixture of sample ``i`` (share ``lam``) and its partner ``j`` (share
``1 - lam``) is a positive of both: its target puts ``lam`` on ``i``'s key
and ``1 - lam`` on ``j``'s. Where those keys sit depends on the key set
(SimCLR: the second view ``2i + 1`` of the interleaved batch; a
``[batch keys | queue]`` key set: column ``i``), so the caller passes the
columns.

SANE's refined labels (:func:`refine_labels`) are targets over a
``[batch keys | queue]`` key set too; its mixed labels are the refined rows
mixed as the images are (:func:`~bsim_plugin.models.utils.mixer.mixup`).
"""
from typing import NamedTuple

import torch
import torch.nn.functional as F


def mixture_targets(lam: torch.Tensor, own_cols: torch.Tensor,
                    partner_cols: torch.Tensor, num_keys: int,
                    dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``(M, num_keys)`` rows with ``lam`` at ``own_cols`` and ``1 - lam``
    at ``partner_cols`` (added up where a sample is its own partner).

    Args:
        lam (Tensor): ``(M,)`` share of each row's own instance.
        own_cols (Tensor): ``(M,)`` long column of each row's own key.
        partner_cols (Tensor): ``(M,)`` long column of its partner's key.
        num_keys (int): size of the key set.
        dtype (torch.dtype): of the result. Defaults to float32.
    """
    if not lam.shape == own_cols.shape == partner_cols.shape or \
            lam.dim() != 1:
        raise ValueError(
            'mixture_targets: lam, own_cols and partner_cols must be (M,) '
            f'each, got {tuple(lam.shape)}, {tuple(own_cols.shape)}, '
            f'{tuple(partner_cols.shape)}')
    rows = torch.arange(lam.numel(), device=lam.device)
    lam = lam.to(dtype)
    target = torch.zeros(
        lam.numel(), num_keys, dtype=dtype, device=lam.device)
    target.index_put_((rows, own_cols), lam, accumulate=True)
    target.index_put_((rows, partner_cols), 1 - lam, accumulate=True)
    return target


class RefinedLabels(NamedTuple):
    """What :func:`refine_labels` returns (all without gradient).

    Attributes:
        labels (Tensor): ``(M, K)`` the refined labels ``y_bar``.
        p (Tensor): ``(M, K)`` the positive key's distribution over keys.
        q (Tensor): ``(M, K)`` ``p`` without the own column, renormalised.
        alpha (Tensor): ``(M,)`` weight of ``p``.
        beta (Tensor): ``(M,)`` weight of ``q``.
    """
    labels: torch.Tensor
    p: torch.Tensor
    q: torch.Tensor
    alpha: torch.Tensor
    beta: torch.Tensor


@torch.no_grad()
def refine_labels(key_logits: torch.Tensor, own_cols: torch.Tensor,
                  mu: float, temperature: float) -> RefinedLabels:
    r"""SANE's self-labeling refinery: soft labels from the positive key.

    For sample ``i`` with positive key ``k_i`` and key set ``B``:

    .. math::
        p_i = \mathrm{softmax}(k_i B^\top / T), \quad
        q_i = p_i \text{ without column } i \text{, renormalised},

        z = 1 + \mu \max p_i + \mu \max q_i, \quad
        \alpha_i = \mu \max p_i / z, \quad \beta_i = \mu \max q_i / z,

        \bar y_i = (1 - \alpha_i - \beta_i)\, y_i + \alpha_i p_i +
        \beta_i q_i

    with ``y_i`` one-hot at the own column and ``T = tau * tau'``.

    Args:
        key_logits (Tensor): ``(M, K)`` cosines of each positive key with
            the key set.
        own_cols (Tensor): ``(M,)`` long, the column of each sample's own key.
        mu (float): the refinery's strength ``mu >= 0``; 0 gives one-hot
            labels.
        temperature (float): ``T`` of ``p`` and ``q``.
    """
    if key_logits.dim() != 2 or own_cols.shape != key_logits.shape[:1]:
        raise ValueError(
            'refine_labels: key_logits must be (M, K) and own_cols (M,), got '
            f'{tuple(key_logits.shape)} and {tuple(own_cols.shape)}')
    if key_logits.size(1) < 2:
        raise ValueError('refine_labels: q needs a key besides the own one, '
                         f'got K={key_logits.size(1)}')
    logits = key_logits.float() / temperature
    own = F.one_hot(own_cols, logits.size(1)).to(logits.dtype)
    p = logits.softmax(dim=1)
    # The own column removed: a softmax without it is the renormalised rest
    # (and stays exact when p puts almost all its mass there).
    q = logits.masked_fill(own.bool(), float('-inf')).softmax(dim=1)
    p_max, q_max = mu * p.max(dim=1).values, mu * q.max(dim=1).values
    z = 1 + p_max + q_max
    alpha, beta = p_max / z, q_max / z
    labels = ((1 - alpha - beta)[:, None] * own + alpha[:, None] * p +
              beta[:, None] * q)
    return RefinedLabels(labels, p, q, alpha, beta)
