"""Positives and negatives from a pseudo-labelled memory, vectorised.

For each query (pseudo-label ``y``): a positive drawn uniformly from the
memory entries labelled ``y`` (its own entry included), and ``K``
negatives labelled ``!= y`` by one of four strategies (InterCLR):

* ``random``: uniform over the entries of other labels;
* ``hard``: the ``K`` most similar entries of other labels;
* ``semihard``: uniform, without replacement, from the ``P`` most similar
  entries of other labels;
* ``semieasy``: the same from the ``P`` least similar.

Every draw is a fixed amount of tensor work (random scores and ``topk``, or
random ranks into the label-sorted memory), never a Python loop over the
batch or a redraw until it fits. One :class:`LabelIndex` (a sort of the
memory's labels) per step serves the positives and the random negatives.
"""
from typing import NamedTuple, Optional

import torch

STRATEGIES = ('random', 'hard', 'semihard', 'semieasy')


class LabelIndex(NamedTuple):
    """The memory's entries grouped by label.

    Attributes:
        order (Tensor): ``(N,)`` entry indices sorted by label.
        starts (Tensor): ``(C,)`` where each label's block starts in
            ``order``.
        counts (Tensor): ``(C,)`` entries per label.
    """
    order: torch.Tensor
    starts: torch.Tensor
    counts: torch.Tensor


@torch.no_grad()
def label_index(memory_labels: torch.Tensor,
                num_labels: Optional[int] = None) -> LabelIndex:
    num_labels = num_labels or int(memory_labels.max()) + 1
    order = torch.argsort(memory_labels, stable=True)
    counts = torch.bincount(memory_labels, minlength=num_labels)
    return LabelIndex(order, torch.cumsum(counts, 0) - counts, counts)


def _rand(shape, like: torch.Tensor, generator) -> torch.Tensor:
    return torch.rand(shape, generator=generator, device=like.device)


@torch.no_grad()
def sample_positives(query_labels: torch.Tensor,
                     memory_labels: torch.Tensor,
                     generator: Optional[torch.Generator] = None,
                     index: Optional[LabelIndex] = None) -> torch.Tensor:
    """``(B,)`` index of a uniformly drawn memory entry with each query's
    label. Every query label must occur in the memory."""
    if index is None:
        index = label_index(memory_labels,
                            int(query_labels.max()) + 1)
    n = index.counts[query_labels]
    if (n == 0).any():
        missing = query_labels[n == 0].unique().tolist()
        raise ValueError(f'sample_positives: no memory entry has label(s) '
                         f'{missing[:5]}')
    offset = (_rand(len(query_labels), query_labels, generator) *
              n).long().clamp(max=n - 1)
    return index.order[index.starts[query_labels] + offset]


@torch.no_grad()
def sample_negatives(sims: torch.Tensor,
                     query_labels: torch.Tensor,
                     memory_labels: torch.Tensor,
                     num: int,
                     strategy: str = 'semihard',
                     pool: Optional[int] = None,
                     generator: Optional[torch.Generator] = None,
                     index: Optional[LabelIndex] = None) -> torch.Tensor:
    """``(B, num)`` memory indices of negatives, none with the query's label.

    Args:
        sims (Tensor): ``(B, N)`` query-memory similarities.
        query_labels (Tensor): ``(B,)`` pseudo-labels of the queries.
        memory_labels (Tensor): ``(N,)`` labels of the memory entries.
        num (int): ``K`` negatives per query.
        strategy (str): one of ``random``, ``hard``, ``semihard``,
            ``semieasy``.
        pool (int, optional): ``P`` for ``semihard`` / ``semieasy``.
        generator (torch.Generator, optional): for the random draws (on the
            device of ``sims``).
        index (LabelIndex, optional): :func:`label_index` of the memory,
            shared with :func:`sample_positives`.

    Raises:
        ValueError: for an unknown strategy, or when a query has fewer than
            ``num`` entries of other labels in the whole memory.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f'sample_negatives: strategy must be one of '
                         f'{STRATEGIES}, got strategy={strategy!r}')
    n_mem = sims.size(1)
    if index is None:
        index = label_index(memory_labels,
                            max(int(memory_labels.max()),
                                int(query_labels.max())) + 1)
    same_count = index.counts[query_labels]
    available = int((n_mem - same_count).min())
    if num > available:
        raise ValueError(f'sample_negatives: num={num} negatives asked, but '
                         f'a query has only {available} entries of other '
                         'labels')
    if strategy == 'random':
        # Uniform ranks among the N - n_y other entries, skipping the
        # query's label block of the label-sorted memory.
        r = (_rand((len(query_labels), num), sims, generator) *
             (n_mem - same_count)[:, None]).long()
        r = torch.minimum(r, (n_mem - same_count - 1)[:, None])
        start = index.starts[query_labels][:, None]
        r = r + (r >= start) * same_count[:, None]
        return index.order[r]
    if strategy == 'hard':
        idx, keep = _nearest_others(sims, query_labels, memory_labels, num,
                                    True, same_count)
        return idx[keep].view(len(idx), num)
    if pool is None or not num <= pool <= n_mem:
        raise ValueError(f'sample_negatives: {strategy} needs num <= pool '
                         f'<= {n_mem}, got num={num}, pool={pool!r}')
    idx, keep = _nearest_others(sims, query_labels, memory_labels, pool,
                                strategy == 'semihard', same_count)
    # K of the P kept, uniformly without replacement: the K largest of
    # random scores (order does not matter to the loss).
    scores = _rand(idx.shape, sims, generator).masked_fill(~keep, -1.0)
    return idx.gather(1, scores.topk(num, dim=1, sorted=False)[1])


def _nearest_others(sims: torch.Tensor, query_labels: torch.Tensor,
                    memory_labels: torch.Tensor, count: int, largest: bool,
                    same_count: torch.Tensor):
    """The ``count`` most (``largest``) or least similar entries of other
    labels, per query, as ``(idx, keep)``: ``(B, W)`` candidate entries in
    no particular order and a mask with ``count`` of them per row.

    They lie among the ``count + n_y`` most (least) similar of all, so one
    unsorted ``topk`` of that width does the heavy work (no mask over the
    whole memory, no sort). A row whose candidates hold fewer than ``n_y``
    same-label entries has a few other-label candidates too many: its
    farthest ones are dropped (a ``topk`` as wide as that excess).
    """
    width = min(sims.size(1), count + int(same_count.max()))
    vals, idx = sims.topk(width, dim=1, largest=largest, sorted=False)
    keep = memory_labels[idx] != query_labels[:, None]
    # (A row with fewer than ``count`` other entries keeps them all.)
    excess = (keep.sum(1) - count).clamp(min=0)
    most = int(excess.max())
    if most > 0:
        # Farthest first: the lowest similarities (highest for least
        # similar); same-label candidates sort last.
        far = (vals if largest else -vals).masked_fill(~keep, float('inf'))
        worst = far.topk(most, dim=1, largest=False)[1]
        drop = torch.arange(most, device=idx.device) < excess[:, None]
        keep.scatter_(1, worst, keep.gather(1, worst) & ~drop)
    return idx, keep
