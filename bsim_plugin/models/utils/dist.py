"""Gathering across processes with mmpretrain's semantics.

mmpretrain's SimCLR gathers embeddings with ``GatherLayer`` so that every
process computes the same loss over the global batch; gradients flow back to
the process that produced each chunk. The helpers here follow the same rule.
"""
from typing import Tuple

import torch
from mmengine.dist import all_gather
from mmpretrain.models.selfsup.simclr import GatherLayer


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """Concatenate ``x`` from all processes (rank order), keeping autograd."""
    return torch.cat(GatherLayer.apply(x), dim=0)


@torch.no_grad()
def gather_partner_info(lam: torch.Tensor, partner: torch.Tensor
                        ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Gather ``lam`` and turn local partner indices into global ones.

    Process ``r`` holds global samples ``[r*n, (r+1)*n)``; a partner index is
    local to its process, so it is offset by ``r*n``. All processes must have
    the same local batch size (as ``GatherLayer`` already requires).
    """
    lams = all_gather(lam)
    partners = all_gather(partner)
    n = partner.numel()
    offset_partners = [p + rank * n for rank, p in enumerate(partners)]
    return torch.cat(lams), torch.cat(offset_partners)
