"""k-means for pseudo-labels, with one result contract on every backend.

:func:`kmeans` clusters L2-normalised features into ``k`` clusters with
faiss (``faiss-cpu``, the ``[faiss]`` extra, when installed and the features
are on the CPU) or with a torch k-means on the features' device. Either way
no cluster is left empty: each empty id takes one half of the currently
largest cluster (:func:`split_largest`), as InterCLR's memory does for its
small clusters. Assignments are computed in row chunks, so an ImageNet-sized
memory (1.28M x 128, 10,000 centroids) never needs the full distance matrix.
"""
import time
from typing import Optional, Tuple

import torch

from ...utils.neighbours import faiss_available

BACKENDS = ('auto', 'faiss', 'torch')


def _argmax_scores(feats: torch.Tensor, centroids: torch.Tensor,
                   bias: torch.Tensor, chunk: int) -> torch.Tensor:
    """``(N,)`` argmax over ``feats @ centroids.T + bias``, in row chunks."""
    out = torch.empty(len(feats), dtype=torch.long, device=feats.device)
    for start in range(0, len(feats), chunk):
        block = feats[start:start + chunk]
        out[start:start + chunk] = (block @ centroids.t() + bias).argmax(1)
    return out


@torch.no_grad()
def nearest_centroid(feats: torch.Tensor,
                     centroids: torch.Tensor,
                     exclude: Optional[torch.Tensor] = None,
                     chunk: int = 65536) -> torch.Tensor:
    """``(N,)`` index of each row's nearest centroid (Euclidean).

    Args:
        feats (Tensor): ``(N, D)`` features.
        centroids (Tensor): ``(C, D)`` centroids.
        exclude (Tensor, optional): ``(C,)`` bool, centroids not to assign
            to.
        chunk (int): rows per block of the ``chunk x C`` score matrix.
    """
    # argmin |f - c|^2 = argmax f.c - |c|^2 / 2
    bias = -0.5 * (centroids * centroids).sum(1)
    if exclude is not None:
        bias = bias.masked_fill(exclude, float('-inf'))
    return _argmax_scores(feats, centroids, bias, chunk)


@torch.no_grad()
def largest_dot_centroid(feats: torch.Tensor,
                         centroids: torch.Tensor,
                         chunk: int = 65536) -> torch.Tensor:
    """``(N,)`` index of the centroid with the largest dot product with each
    row: InterCLR's online re-labelling rule, ``argmax(centroids @ f)``.

    The centroids are unnormalised member means of unit features, so a
    tight cluster (a longer mean) wins over a loose one at the same angle:
    this is not the Euclidean nearest centroid (:func:`nearest_centroid`,
    which k-means uses).
    """
    bias = centroids.new_zeros(len(centroids))
    return _argmax_scores(feats, centroids, bias, chunk)


@torch.no_grad()
def member_means(feats: torch.Tensor, labels: torch.Tensor,
                 num_clusters: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(C, D)`` mean of each cluster's members (zeros when empty) and the
    ``(C,)`` member counts: one ``index_add`` over all clusters."""
    sums = torch.zeros(num_clusters, feats.size(1), dtype=feats.dtype,
                       device=feats.device).index_add_(0, labels, feats)
    counts = torch.bincount(labels, minlength=num_clusters)
    means = sums / counts.clamp(min=1).unsqueeze(1).to(feats.dtype)
    return means, counts


@torch.no_grad()
def split_largest(feats: torch.Tensor, labels: torch.Tensor,
                  centroids: torch.Tensor, new_id: int,
                  iters: int = 10, min_size: int = 1) -> None:
    """Give cluster ``new_id`` one half of the currently largest cluster.

    The halves come from a 2-means of the largest cluster's members started
    from its two extreme members along the direction of its farthest
    member; if 2-means leaves a half smaller than ``min_size`` (or empty),
    the members are halved at the median of their projection on that
    direction. Deterministic (no random
    draw): every process of a DDP run makes the same split. Both centroids
    are recomputed. ``labels`` and ``centroids`` change in place.
    """
    counts = torch.bincount(labels, minlength=len(centroids))
    largest = int(counts.argmax())
    members = (labels == largest).nonzero().squeeze(1)
    if len(members) < 2:
        raise ValueError(
            f'split_largest: the largest cluster has {len(members)} member(s)'
            f'; {len(centroids)} clusters need at least as many samples')
    x = feats[members]
    centre = x.mean(0)
    far = x[((x - centre)**2).sum(1).argmax()]
    direction = far - centre
    proj = (x - centre) @ direction
    c = torch.stack([x[proj.argmax()], x[proj.argmin()]])
    side = torch.zeros(len(x), dtype=torch.bool, device=x.device)
    for _ in range(iters):
        side = ((x - c[1])**2).sum(1) < ((x - c[0])**2).sum(1)
        if side.all() or not side.any():
            break
        c = torch.stack([x[~side].mean(0), x[side].mean(0)])
    smaller = min(int(side.sum()), int((~side).sum()))
    if smaller < min(min_size, len(x) // 2) or smaller == 0:
        # Balanced halves: rank along the direction (ties by position).
        rank = torch.empty_like(members)
        rank[proj.argsort(stable=True)] = torch.arange(
            len(x), device=x.device)
        side = rank < len(x) // 2
    labels[members[side]] = new_id
    centroids[largest] = x[~side].mean(0)
    centroids[new_id] = x[side].mean(0)


@torch.no_grad()
def fill_empty_clusters(feats: torch.Tensor, labels: torch.Tensor,
                        centroids: torch.Tensor) -> int:
    """Split the largest cluster for every empty id; returns how many."""
    counts = torch.bincount(labels, minlength=len(centroids))
    empty = (counts == 0).nonzero().squeeze(1).tolist()
    for cid in empty:
        split_largest(feats, labels, centroids, cid)
    return len(empty)


def _log(verbose: bool, message: str) -> None:
    if verbose:
        print(f'[kmeans] {message}', flush=True)


@torch.no_grad()
def kmeans_torch(feats: torch.Tensor, k: int, iters: int, seed: int,
                 verbose: bool) -> Tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator(device='cpu').manual_seed(seed)
    init = torch.randperm(len(feats), generator=g)[:k].to(feats.device)
    centroids = feats[init].clone()
    labels = nearest_centroid(feats, centroids)
    start = time.perf_counter()
    for it in range(iters):
        means, counts = member_means(feats, labels, k)
        centroids = torch.where((counts > 0).unsqueeze(1), means, centroids)
        fill_empty_clusters(feats, labels, centroids)
        new = nearest_centroid(feats, centroids)
        changed = int((new != labels).sum())
        labels = new
        _log(verbose, f'iteration {it + 1}/{iters}: {changed} labels '
             f'changed, {time.perf_counter() - start:.1f} s')
        if changed == 0:
            break
    return centroids, labels


def kmeans_faiss(feats: torch.Tensor, k: int, iters: int, seed: int,
                 verbose: bool,
                 restarts: int = 1) -> Tuple[torch.Tensor, torch.Tensor]:
    import faiss
    x = feats.detach().float().contiguous().cpu().numpy()
    km = faiss.Kmeans(x.shape[1], k, niter=iters, seed=seed, verbose=verbose,
                      nredo=restarts,
                      max_points_per_centroid=max(256, len(x) // k + 1))
    km.train(x)
    centroids = torch.from_numpy(km.centroids).to(feats)
    return centroids, nearest_centroid(feats, centroids)


def inertia(feats: torch.Tensor, centroids: torch.Tensor,
            labels: torch.Tensor) -> float:
    """Sum of squared distances of the features to their centroids."""
    return float(((feats - centroids[labels])**2).sum())


@torch.no_grad()
def kmeans(feats: torch.Tensor,
           k: int,
           iters: int = 20,
           seed: int = 0,
           backend: str = 'auto',
           restarts: int = 1,
           verbose: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
    """Cluster ``feats`` into ``k`` non-empty clusters.

    Args:
        feats (Tensor): ``(N, D)`` features, ``N >= 2 * k`` is safe.
        k (int): clusters.
        iters (int): Lloyd iterations. Defaults to 20.
        seed (int): initialisation seed. Defaults to 0.
        restarts (int): runs from different initialisations; the one of
            least inertia is kept (k-means finds a local optimum).
            Defaults to 1.
        backend (str): ``'auto'`` (faiss for CPU features when installed,
            else torch), ``'faiss'`` or ``'torch'``.
        verbose (bool): print progress.

    Returns:
        Tuple[Tensor, Tensor]: ``(k, D)`` centroids (member means) and
        ``(N,)`` labels, every cluster with at least one member.
    """
    n = len(feats)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
        raise ValueError(f'kmeans: k must be an int in [1, {n}] for {n} '
                         f'features, got k={k!r}')
    if backend not in BACKENDS:
        raise ValueError(f'kmeans: backend must be one of {BACKENDS}, got '
                         f'backend={backend!r}')
    if backend == 'auto':
        backend = ('faiss' if feats.device.type == 'cpu'
                   and faiss_available() else 'torch')
    if backend == 'faiss' and not faiss_available():
        raise ImportError("kmeans: backend='faiss' needs faiss "
                          '(pip install faiss-cpu, or the [faiss] extra)')
    start = time.perf_counter()
    _log(verbose, f'{n} x {feats.size(1)} features into {k} clusters '
         f'({backend})')
    if backend == 'faiss':
        centroids, labels = kmeans_faiss(feats, k, iters, seed, verbose,
                                         restarts)
    else:
        best = None
        for run in range(restarts):
            result = kmeans_torch(feats, k, iters, seed + run, verbose)
            score = inertia(feats, *result)
            if best is None or score < best[0]:
                best = (score, result)
        centroids, labels = best[1]
    filled = fill_empty_clusters(feats, labels, centroids)
    means, counts = member_means(feats, labels, k)
    _log(verbose, f'done in {time.perf_counter() - start:.1f} s; '
         f'{filled} empty cluster(s) refilled; sizes min {int(counts.min())} '
         f'/ median {int(counts.median())} / max {int(counts.max())}')
    return means, labels
