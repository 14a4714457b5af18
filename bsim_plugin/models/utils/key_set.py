"""Key sets: what a query is compared with.

The storage of keys follows each algorithm's mmpretrain parent (SimCLR: the
gathered batch; MoCo: its ``queue`` buffer of shape ``(d, L)``, filled by its
own ``_dequeue_and_enqueue``); what the algorithms share is the *key set* a
query is scored against and the targets over it
(:func:`~bsim_plugin.models.utils.targets.mixture_targets`).

* SimCLR (BSIM): the ``2N`` clean embeddings of the global batch; the key of
  instance ``g``'s second view is column ``2g + 1``.
* MoCo-style algorithms (BSIM on MoCo, SANE): ``[this batch's keys | queue]``
  with the batch first, so the key of sample ``i`` (and of its mixing
  partner ``j``) is column ``i`` (``j``) and the queue's negatives are
  columns ``N:``.
"""
import torch


def queue_key_set(batch_keys: torch.Tensor,
                  queue: torch.Tensor) -> torch.Tensor:
    """``(N + L, d)`` key set ``[batch_keys | queue]``, batch first.

    Args:
        batch_keys (Tensor): ``(N, d)`` this batch's (momentum) keys.
        queue (Tensor): ``(d, L)`` the queue as MoCo stores it. It is
            detached: no gradient reaches stored keys.
    """
    if batch_keys.dim() != 2 or queue.dim() != 2 or \
            queue.size(0) != batch_keys.size(1):
        raise ValueError(
            'queue_key_set: batch_keys must be (N, d) and queue (d, L), got '
            f'{tuple(batch_keys.shape)} and {tuple(queue.shape)}')
    return torch.cat([batch_keys, queue.detach().t()], dim=0)


def columns_logits(logits: torch.Tensor,
                   *cols: torch.Tensor) -> torch.Tensor:
    """``(M, P)``: for each row, the logits at the given key columns.

    ``columns_logits(s, own, partner)`` picks a mixture's two positives.
    """
    return logits.gather(1, torch.stack(cols, dim=1))
