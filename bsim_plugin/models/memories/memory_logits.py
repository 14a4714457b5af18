"""Logits against memory rows, with a sparse gradient.

The inter branch scores each query against ``1 + K`` drawn memory entries.
Gathering those rows (``B x (1 + K) x D``: 2.1 GB at ImageNet scale) only to
form the logits and their gradient is the costliest part of the step. The
logit values are already in the batch x memory similarities computed for
sampling; :func:`memory_logits` takes them from there and computes the
gradient with respect to the queries as a weighted sum of the drawn rows
(``embedding_bag``: ``O(B K D)`` work, no gathered copy).

The memory is written in place after the loss, before the backward pass:
the rows written in between are passed in (``written``, their values before
the write) and the gradient uses those.
"""
import torch
import torch.nn.functional as F


class _MemoryLogits(torch.autograd.Function):

    @staticmethod
    def forward(ctx, q, values, idx, feats, written, written_rows):
        ctx.save_for_backward(idx, written, written_rows)
        ctx.feats = feats
        return values.clone()

    @staticmethod
    def backward(ctx, grad):
        idx, written, old_rows = ctx.saved_tensors
        feats = ctx.feats
        b, m = idx.shape
        dtype = grad.dtype
        # A dense gradient: embedding_bag is several times slower on an
        # expanded one (e.g. the gradient of logits.sum()).
        grad = grad.to(feats.dtype).contiguous()
        vals = grad.reshape(-1)
        # sum_j grad[b, j] * feats[idx[b, j]], without the (B, M, D) copy.
        grad_q = F.embedding_bag(idx, feats, mode='sum',
                                 per_sample_weights=grad)
        if len(written):
            rows = torch.arange(b, device=idx.device).repeat_interleave(m)
            cols = idx.reshape(-1)
            # Rows written after the forward: use their earlier values.
            where = torch.full((feats.size(0), ), -1, dtype=torch.long,
                               device=idx.device)
            where[written] = torch.arange(len(written), device=idx.device)
            hit = where[cols]
            sel = hit >= 0
            if sel.any():
                delta = old_rows[hit[sel]] - feats[cols[sel]]
                grad_q.index_add_(0, rows[sel], vals[sel, None] * delta)
        return grad_q.to(dtype), None, None, None, None, None


def memory_logits(q: torch.Tensor, sims: torch.Tensor, idx: torch.Tensor,
                  feats: torch.Tensor, written: torch.Tensor,
                  written_rows: torch.Tensor) -> torch.Tensor:
    """``(B, M)`` logits ``q_b . feats[idx[b, j]]`` with gradient to ``q``.

    Args:
        q (Tensor): ``(B, D)`` queries (with gradient).
        sims (Tensor): ``(B, N)`` ``q @ feats.T`` computed without gradient,
            before any write.
        idx (Tensor): ``(B, M)`` long memory entries per query.
        feats (Tensor): ``(N, D)`` the memory (may be written in place
            between forward and backward).
        written (Tensor): ``(W,)`` long entries written after this call.
        written_rows (Tensor): ``(W, D)`` their values at this call.
    """
    return _MemoryLogits.apply(q, sims.gather(1, idx), idx, feats, written,
                               written_rows)
