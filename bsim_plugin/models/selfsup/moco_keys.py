"""Queries and keys of the algorithms built on mmpretrain's ``MoCo``."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import get_world_size
from mmpretrain.models.utils import batch_shuffle_ddp, batch_unshuffle_ddp


class MoCoKeysMixin:
    """Online queries, momentum keys and the queue-length check, for a
    subclass of mmpretrain's :class:`~mmpretrain.models.MoCo` (its
    ``backbone``, ``neck``, ``encoder_k`` and ``queue_len``)."""

    def query(self, images: torch.Tensor, *necks: nn.Module):
        """L2-normalised query ``q`` of the online encoder; with ``necks``,
        the list ``[q, *extra]`` of it and of these further online necks on
        the same backbone features."""
        feats = self.backbone(images)
        out = [F.normalize(n(feats)[0], dim=1) for n in (self.neck, *necks)]
        return out if necks else out[0]

    @torch.no_grad()
    def update_momentum_encoder(self) -> None:
        """One EMA step of ``encoder_k`` towards the online encoder."""
        self.encoder_k.update_parameters(
            nn.Sequential(self.backbone, self.neck))

    @torch.no_grad()
    def encode_keys(self, images: torch.Tensor, *necks: nn.Module):
        """Keys of the momentum encoder, with MoCo's batch shuffle across
        processes (for BatchNorm); with ``necks`` (momentum copies of
        further necks), the list ``[k, *extra]`` of the keys of each on the
        same momentum-backbone features."""
        images, idx_unshuffle = batch_shuffle_ddp(images)
        if necks:
            backbone, neck = self.encoder_k.module
            feats = backbone(images)
            outs = [n(feats)[0] for n in (neck, *necks)]
        else:
            outs = [self.encoder_k(images)[0]]
        keys = [
            batch_unshuffle_ddp(F.normalize(k, dim=1), idx_unshuffle)
            for k in outs
        ]
        return keys if necks else keys[0]

    def check_queue_fits(self, local_batch: int) -> None:
        """MoCo fills its queue batch by batch: its length must be a
        multiple of the global batch (checked before any update)."""
        global_batch = local_batch * get_world_size()
        if self.queue_len % global_batch:
            raise ValueError(
                f'{type(self).__name__}: queue_len={self.queue_len} must be '
                f'a multiple of the global batch size {global_batch} (the '
                'queue is filled batch by batch)')
