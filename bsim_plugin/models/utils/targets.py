"""Targets over a key set, shared by the algorithms that mix instances.

A mixture of sample ``i`` (share ``lam``) and its partner ``j`` (share
``1 - lam``) is a positive of both: its target puts ``lam`` on ``i``'s key
and ``1 - lam`` on ``j``'s. Where those keys sit depends on the key set
(SimCLR: the second view ``2i + 1`` of the interleaved batch; a
``[batch keys | queue]`` key set: column ``i``), so the caller passes the
columns.
"""
import torch


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
