from typing import Dict

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_gather

from ...utils.validation import check_int, check_number
from .clustering import (largest_dot_centroid, member_means, nearest_centroid,
                         split_largest)
from .sampling import STRATEGIES


class PseudoLabelMemory(nn.Module):
    """A dataset-sized memory of features with online pseudo-labels.

    The second form of the key bank (MoCo's queue is the first): InterCLR's
    inter-image branch draws its positives and negatives from it. Features,
    labels and centroids are registered buffers, so every checkpoint holds
    them and a resumed run continues exactly (mmselfsup 0.x wrote them to
    side files every 10 epochs).

    * :meth:`update` writes a step's keys by dataset index,
      ``m <- normalize((1 - mu) m + mu k)``, and re-labels those entries by
      the largest dot product with the centroids (the official rule,
      ``argmax(centroids @ m)``; k-means itself is Euclidean). Under DDP the indices and keys are gathered first
      and every process applies the same update: the memories stay
      identical without broadcasting them.
    * :meth:`recompute_centroids`: all centroids as member means (one
      ``index_add``).
    * :meth:`dissolve_small_clusters`: members of clusters under
      ``min_cluster`` move to the nearest cluster that is not small; each
      emptied id takes one half of the currently largest cluster.

    Args:
        length (int): samples in the data set.
        feat_dim (int): feature dimension.
        num_clusters (int): ``C``.
        momentum (float): ``mu`` in (0, 1]; 1 replaces the entry.
            Defaults to 1.0.
        min_cluster (int): smallest cluster kept. Defaults to 20.
    """

    def __init__(self,
                 length: int,
                 feat_dim: int,
                 num_clusters: int,
                 momentum: float = 1.0,
                 min_cluster: int = 20) -> None:
        super().__init__()
        name = type(self).__name__
        for key, value in (('length', length), ('feat_dim', feat_dim),
                           ('num_clusters', num_clusters)):
            check_int(name, key, value)
        if num_clusters > length:
            raise ValueError(f'{name}: num_clusters={num_clusters} exceeds '
                             f'the data set length {length}')
        self.momentum = check_number(name, 'momentum', momentum, gt=0, le=1)
        if isinstance(min_cluster, bool) or not isinstance(min_cluster, int) \
                or min_cluster < 1 or min_cluster * num_clusters > length:
            raise ValueError(
                f'{name}: min_cluster must be an int >= 1 with min_cluster x '
                f'num_clusters <= length ({length}), got '
                f'min_cluster={min_cluster!r}')
        self.min_cluster = min_cluster
        self.num_clusters = num_clusters
        self.register_buffer('feats', torch.zeros(length, feat_dim))
        self.register_buffer('labels', torch.zeros(length, dtype=torch.long))
        self.register_buffer('centroids', torch.zeros(num_clusters,
                                                      feat_dim))
        self.register_buffer('initialized', torch.tensor(False))

    def __len__(self) -> int:
        return self.feats.size(0)

    def check_sampling(self, owner: str, num_negatives: int, strategy: str,
                       pool: int) -> int:
        """Check a sampling setting against this memory, before training.

        Args:
            owner (str): the component that samples, first word of errors.
            num_negatives (int): negatives per query; a query of the
                smallest cluster must still find them among the others.
            strategy (str): one of :data:`STRATEGIES`.
            pool (int): ``P`` of ``semihard`` / ``semieasy``, at least
                ``num_negatives``.

        Returns:
            int: the pool to draw from (at most the memory's length).
        """
        if strategy not in STRATEGIES:
            raise ValueError(f'{owner}: negative_strategy must be one of '
                             f'{STRATEGIES}, got negative_strategy='
                             f'{strategy!r}')
        check_int(owner, 'num_negatives', num_negatives)
        check_int(owner, 'negative_pool', pool)
        if strategy in ('semihard', 'semieasy') and pool < num_negatives:
            raise ValueError(f'{owner}: negative_pool={pool} must be '
                             f'>= num_negatives={num_negatives}')
        if num_negatives > len(self) - self.min_cluster:
            raise ValueError(f'{owner}: num_negatives={num_negatives} does '
                             f'not fit a memory of {len(self)}')
        return min(pool, len(self))

    @torch.no_grad()
    def fill(self, feats: torch.Tensor, labels: torch.Tensor,
             centroids: torch.Tensor) -> None:
        """Set the whole memory (features are L2-normalised here)."""
        if feats.shape != self.feats.shape or \
                labels.shape != self.labels.shape or \
                centroids.shape != self.centroids.shape:
            raise ValueError(
                f'{type(self).__name__}.fill: expected feats '
                f'{tuple(self.feats.shape)}, labels '
                f'{tuple(self.labels.shape)}, centroids '
                f'{tuple(self.centroids.shape)}; got {tuple(feats.shape)}, '
                f'{tuple(labels.shape)}, {tuple(centroids.shape)}')
        self.feats.copy_(F.normalize(feats.to(self.feats), dim=1))
        self.labels.copy_(labels)
        self.centroids.copy_(centroids)
        self.initialized.fill_(True)

    @torch.no_grad()
    def update(self, idx: torch.Tensor, keys: torch.Tensor,
               gather: bool = True, relabel: bool = True) -> torch.Tensor:
        """Write keys by dataset index and re-label those entries.

        Args:
            idx (Tensor): ``(n,)`` long dataset indices of this process's
                samples.
            keys (Tensor): ``(n, D)`` their keys.
            gather (bool): gather ``idx`` and ``keys`` from every process
                first (no-op without a process group). Defaults to True.
            relabel (bool): re-label the written entries by the largest
                dot product with the centroids (online labels); ``False`` keeps their labels
                (offline labels, re-clustered periodically). Defaults to
                True.

        Returns:
            Tensor: the global indices written.
        """
        if gather:
            idx = torch.cat(all_gather(idx))
            keys = torch.cat(all_gather(keys))
        idx = idx.to(self.feats.device).long()
        keys = keys.to(self.feats)
        new = F.normalize((1 - self.momentum) * self.feats[idx] +
                          self.momentum * keys, dim=1)
        self.feats[idx] = new
        if relabel:
            self.labels[idx] = largest_dot_centroid(new, self.centroids)
        return idx

    @torch.no_grad()
    def recompute_centroids(self) -> torch.Tensor:
        """Every centroid as its members' mean (empty ones unchanged);
        returns the ``(C,)`` counts."""
        means, counts = member_means(self.feats, self.labels,
                                     self.num_clusters)
        self.centroids.copy_(
            torch.where((counts > 0).unsqueeze(1), means, self.centroids))
        return counts

    @torch.no_grad()
    def dissolve_small_clusters(self) -> Dict[str, int]:
        """Move members of clusters under ``min_cluster`` to the nearest
        cluster that is not small, then refill every emptied id by splitting
        the currently largest cluster.

        Returns:
            dict: ``dissolved`` (small clusters, empty ones included) and
            ``moved`` (samples re-labelled).
        """
        counts = torch.bincount(self.labels, minlength=self.num_clusters)
        small = counts < self.min_cluster
        if not small.any():
            return dict(dissolved=0, moved=0)
        members = small[self.labels].nonzero().squeeze(1)
        if len(members):
            self.labels[members] = nearest_centroid(
                self.feats[members], self.centroids, exclude=small)
        for cid in small.nonzero().squeeze(1).tolist():
            split_largest(self.feats, self.labels, self.centroids, cid,
                          min_size=self.min_cluster)
        return dict(dissolved=int(small.sum()), moved=int(len(members)))

    def cluster_stats(self) -> Dict[str, float]:
        """Sizes (min / median / max) and the number of empty clusters."""
        counts = torch.bincount(self.labels, minlength=self.num_clusters)
        return dict(
            empty=int((counts == 0).sum()),
            min=int(counts.min()),
            median=float(counts.float().median()),
            max=int(counts.max()))

    def extra_repr(self) -> str:
        return (f'length={len(self)}, feat_dim={self.feats.size(1)}, '
                f'num_clusters={self.num_clusters}, momentum={self.momentum}'
                f', min_cluster={self.min_cluster}')
