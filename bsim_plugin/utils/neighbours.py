"""Cosine k nearest neighbours within one set of embeddings.

faiss (``faiss-cpu``, the ``[faiss]`` extra) is used when it is installed
and the features are on the CPU; otherwise a chunked torch search on the
features' device. The torch search never holds more than one
``query_chunk x bank_chunk`` block of similarities (plus the running top
``k``), so 1.28M x 2048 embeddings need no full similarity matrix.
"""
import math
from typing import Optional, Tuple

import torch

BACKENDS = ('auto', 'faiss', 'torch')


def faiss_available() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def chunk_sizes(num: int, max_bytes: int) -> Tuple[int, int]:
    """``(query_chunk, bank_chunk)`` whose float32 block fits ``max_bytes``."""
    side = max(1, int(math.sqrt(max_bytes / 4)))
    return min(num, side), min(num, side)


@torch.no_grad()
def topk_torch(features: torch.Tensor,
               k: int,
               exclude_self: bool = True,
               max_bytes: int = 256 * 2**20,
               progress: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
    """Chunked exact top-``k`` by inner product (cosine for unit rows)."""
    n = features.size(0)
    q_chunk, b_chunk = chunk_sizes(n, max_bytes)
    sims = torch.empty(n, k, device=features.device)
    index = torch.empty(n, k, dtype=torch.long, device=features.device)
    bar = None
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(n)
    for qs in range(0, n, q_chunk):
        query = features[qs:qs + q_chunk]
        rows = torch.arange(qs, qs + query.size(0), device=features.device)
        best_s = torch.full((query.size(0), k), float('-inf'),
                            device=features.device)
        best_i = torch.zeros(query.size(0), k, dtype=torch.long,
                             device=features.device)
        for bs in range(0, n, b_chunk):
            block = query @ features[bs:bs + b_chunk].t()
            cols = torch.arange(bs, bs + block.size(1), device=block.device)
            if exclude_self:
                block[rows[:, None] == cols[None, :]] = float('-inf')
            cand_s = torch.cat([best_s, block], dim=1)
            cand_i = torch.cat([best_i, cols.expand(block.size(0), -1)],
                               dim=1)
            best_s, pos = cand_s.topk(k, dim=1)
            best_i = cand_i.gather(1, pos)
        sims[qs:qs + query.size(0)] = best_s
        index[qs:qs + query.size(0)] = best_i
        if bar is not None:
            bar.update(query.size(0))
    if bar is not None:
        print(flush=True)
    return sims, index


def topk_faiss(features: torch.Tensor,
               k: int,
               exclude_self: bool = True) -> Tuple[torch.Tensor, torch.Tensor]:
    """Exact top-``k`` by inner product with faiss' flat index."""
    import faiss
    x = features.detach().float().contiguous().cpu().numpy()
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    extra = 1 if exclude_self else 0
    sims, idx = index.search(x, k + extra)
    sims, idx = torch.from_numpy(sims), torch.from_numpy(idx).long()
    if exclude_self:
        # Drop each row's own index; where ties put it beyond the first k+1
        # results, drop the last instead.
        own = idx == torch.arange(len(idx))[:, None]
        drop = torch.where(own.any(1), own.float().argmax(1),
                           torch.full((len(idx), ), k))
        keep = torch.ones_like(own)
        keep[torch.arange(len(idx)), drop] = False
        sims = sims[keep].view(len(idx), k)
        idx = idx[keep].view(len(idx), k)
    return sims, idx


def cosine_topk(features: torch.Tensor,
                k: int,
                exclude_self: bool = True,
                backend: str = 'auto',
                max_bytes: Optional[int] = None,
                progress: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
    """Each row's ``k`` most similar other rows.

    Args:
        features (Tensor): ``(N, D)`` L2-normalised embeddings.
        k (int): neighbours per row, ``1 <= k < N``.
        exclude_self (bool): leave each row out of its own neighbours.
            Defaults to True.
        backend (str): ``'auto'`` (faiss for CPU features when installed,
            else torch), ``'faiss'`` or ``'torch'``.
        max_bytes (int, optional): memory of one similarity block of the
            torch search. Defaults to 256 MiB.
        progress (bool): show a progress bar (torch search).

    Returns:
        Tuple[Tensor, Tensor]: ``(N, k)`` similarities, descending, and
        ``(N, k)`` long neighbour indices.
    """
    if features.dim() != 2:
        raise ValueError('cosine_topk: features must be (N, D), got shape '
                         f'{tuple(features.shape)}')
    n = features.size(0)
    limit = n - 1 if exclude_self else n
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= limit:
        raise ValueError(f'cosine_topk: k must be an int in [1, {limit}] for '
                         f'{n} embeddings, got k={k!r}')
    if backend not in BACKENDS:
        raise ValueError(f'cosine_topk: backend must be one of {BACKENDS}, '
                         f'got backend={backend!r}')
    if backend == 'auto':
        backend = ('faiss' if features.device.type == 'cpu'
                   and faiss_available() else 'torch')
    if backend == 'faiss':
        if not faiss_available():
            raise ImportError("cosine_topk: backend='faiss' needs faiss "
                              '(pip install faiss-cpu, or the [faiss] extra)')
        return topk_faiss(features, k, exclude_self)
    return topk_torch(features.float(), k, exclude_self,
                      max_bytes or 256 * 2**20, progress)
