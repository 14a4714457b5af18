"""Positives and negatives from a pseudo-labelled memory, vectorised.

For each query (pseudo-label ``y``): a positive drawn uniformly from the
memory entries labelled ``y``, and ``K`` negatives labelled ``!= y`` by one
of four strategies (InterCLR):

* ``random``: uniform over the memory;
* ``hard``: the ``K`` most similar;
* ``semihard``: uniform from the ``P`` most similar;
* ``semieasy``: uniform from the ``P`` least similar.

Draws are without replacement and bounded: random scores and ``topk`` over
the batch x memory similarities (which the loss needs anyway), never a
Python loop over the batch or a redraw until it fits.
"""
from typing import Optional

import torch

STRATEGIES = ('random', 'hard', 'semihard', 'semieasy')


@torch.no_grad()
def sample_positives(query_labels: torch.Tensor,
                     memory_labels: torch.Tensor,
                     generator: Optional[torch.Generator] = None
                     ) -> torch.Tensor:
    """``(B,)`` index of a uniformly drawn memory entry with each query's
    label (its own entry included). Every label must occur in the
    memory."""
    order = torch.argsort(memory_labels, stable=True)
    counts = torch.bincount(memory_labels,
                            minlength=int(query_labels.max()) + 1)
    starts = torch.cumsum(counts, 0) - counts
    n = counts[query_labels]
    if (n == 0).any():
        missing = query_labels[n == 0].unique().tolist()
        raise ValueError(f'sample_positives: no memory entry has label(s) '
                         f'{missing[:5]}')
    u = torch.rand(len(query_labels), generator=generator,
                   device=query_labels.device)
    offset = (u * n).long().clamp(max=n - 1)
    return order[starts[query_labels] + offset]


@torch.no_grad()
def sample_negatives(sims: torch.Tensor,
                     query_labels: torch.Tensor,
                     memory_labels: torch.Tensor,
                     num: int,
                     strategy: str = 'semihard',
                     pool: Optional[int] = None,
                     generator: Optional[torch.Generator] = None
                     ) -> torch.Tensor:
    """``(B, num)`` memory indices of negatives, none with the query's label.

    Args:
        sims (Tensor): ``(B, N)`` query-memory similarities.
        query_labels (Tensor): ``(B,)`` pseudo-labels of the queries.
        memory_labels (Tensor): ``(N,)`` labels of the memory entries.
        num (int): ``K`` negatives per query.
        strategy (str): one of ``random``, ``hard``, ``semihard``,
            ``semieasy``.
        pool (int, optional): ``P`` for ``semihard`` / ``semieasy``
            (``num <= P``).
        generator (torch.Generator, optional): for the random draws (on the
            device of ``sims``).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f'sample_negatives: strategy must be one of '
                         f'{STRATEGIES}, got strategy={strategy!r}')
    same = memory_labels[None, :] == query_labels[:, None]
    available = int((~same).sum(1).min())
    if num > available:
        raise ValueError(f'sample_negatives: num={num} negatives asked, but '
                         f'a query has only {available} entries of other '
                         'labels')
    if strategy == 'hard':
        return sims.masked_fill(same, float('-inf')).topk(num, dim=1)[1]

    def draw(scores_shape, valid):
        r = torch.rand(scores_shape, generator=generator,
                       device=sims.device)
        return r.masked_fill(~valid, -1.0).topk(num, dim=1)[1]

    if strategy == 'random':
        return draw(sims.shape, ~same)
    if pool is None or not num <= pool <= sims.size(1):
        raise ValueError(f'sample_negatives: {strategy} needs num <= pool '
                         f'<= {sims.size(1)}, got num={num}, pool={pool!r}')
    if strategy == 'semihard':
        masked = sims.masked_fill(same, float('-inf'))
        top, idx = masked.topk(pool, dim=1)
        valid = top > float('-inf')
    else:  # semieasy
        masked = sims.masked_fill(same, float('inf'))
        top, idx = masked.topk(pool, dim=1, largest=False)
        valid = top < float('inf')
    return idx.gather(1, draw(idx.shape, valid))
