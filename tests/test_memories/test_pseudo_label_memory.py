"""InterCLR's memory and clustering against direct computations: k-means
(torch and faiss) leaves no cluster empty, nearest centroids and member
means, the online update and re-labelling, small-cluster handling, and the
vectorised positive / negative sampling."""
import pytest
import torch
import torch.nn.functional as F

from bsim_plugin.models.memories import (PseudoLabelMemory, kmeans,
                                         largest_dot_centroid, member_means,
                                         nearest_centroid, sample_negatives,
                                         sample_positives, split_largest)
from bsim_plugin.utils.neighbours import faiss_available

BACKENDS = ['torch', pytest.param('faiss', marks=pytest.mark.skipif(
    not faiss_available(), reason='faiss not installed'))]


def blobs(per=40, k=4, d=8, seed=0, spread=0.05):
    g = torch.Generator().manual_seed(seed)
    centres = F.normalize(torch.randn(k, d, generator=g), dim=1)
    x = centres.repeat_interleave(per, 0) + spread * torch.randn(
        per * k, d, generator=g)
    return F.normalize(x, dim=1), torch.arange(k).repeat_interleave(per)


def test_nearest_centroid_and_member_means_by_hand():
    x, _ = blobs()
    c = torch.randn(5, 8)
    exclude = torch.tensor([False, True, False, False, True])
    got = nearest_centroid(x, c, exclude, chunk=7)
    d = torch.cdist(x, c)
    d[:, exclude] = float('inf')
    assert torch.equal(got, d.argmin(1))
    labels = got
    means, counts = member_means(x, labels, 5)
    for cid in range(5):
        members = x[labels == cid]
        assert counts[cid] == len(members)
        expected = members.mean(0) if len(members) else torch.zeros(8)
        torch.testing.assert_close(means[cid], expected)


@pytest.mark.parametrize('backend', BACKENDS)
def test_kmeans_recovers_blobs_and_returns_member_means(backend):
    x, truth = blobs()
    # k-means finds a local optimum: the best of 5 starts is the blobs'.
    centroids, labels = kmeans(x, 4, backend=backend, seed=1, restarts=5)
    # The same partition as the blobs, up to renaming.
    pairs = set(zip(truth.tolist(), labels.tolist()))
    assert len(pairs) == 4
    torch.testing.assert_close(centroids, member_means(x, labels, 4)[0])


@pytest.mark.parametrize('backend', BACKENDS)
def test_kmeans_never_leaves_a_cluster_empty(backend):
    # 30 copies of 3 points: Lloyd's algorithm alone empties most of 12
    # clusters; the contract refills them by splitting the largest.
    g = torch.Generator().manual_seed(0)
    x = F.normalize(torch.randn(3, 6, generator=g), dim=1).repeat(30, 1)
    x = x + 1e-4 * torch.randn(x.shape, generator=g)
    _, labels = kmeans(x, 12, backend=backend)
    assert torch.bincount(labels, minlength=12).min() >= 1


def test_kmeans_bad_arguments_are_named():
    x, _ = blobs(per=2)
    with pytest.raises(ValueError, match='k=9'):
        kmeans(x, 9)
    with pytest.raises(ValueError, match="backend='sklearn'"):
        kmeans(x, 2, backend='sklearn')


def test_split_largest_halves_it_deterministically():
    x, _ = blobs(per=10, k=2)
    labels = torch.zeros(20, dtype=torch.long)  # one cluster of two blobs
    centroids = torch.zeros(3, 8)
    split_largest(x, labels, centroids, new_id=2)
    counts = torch.bincount(labels, minlength=3)
    assert counts.tolist() == [10, 0, 10]  # the blobs, apart
    for cid in (0, 2):
        torch.testing.assert_close(centroids[cid], x[labels == cid].mean(0))
    again = torch.zeros(20, dtype=torch.long)
    split_largest(x, again, torch.zeros(3, 8), new_id=2)
    assert torch.equal(again, labels)


def test_split_keeps_both_halves_at_the_minimum_size():
    # One far outlier: 2-means would split it off alone.
    x, _ = blobs(per=20, k=1)
    x[0] = -x[1]
    labels = torch.zeros(20, dtype=torch.long)
    centroids = torch.zeros(2, 8)
    split_largest(x, labels, centroids, new_id=1, min_size=5)
    assert torch.bincount(labels, minlength=2).min() >= 5
    for cid in (0, 1):
        torch.testing.assert_close(centroids[cid], x[labels == cid].mean(0))


def filled_memory(mu=1.0, min_cluster=3, k=4):
    x, _ = blobs(per=10, k=k)
    memory = PseudoLabelMemory(len(x), 8, k, momentum=mu,
                               min_cluster=min_cluster)
    centroids, labels = kmeans(x, k, backend='torch')
    memory.fill(x, labels, centroids)
    return memory


@pytest.mark.parametrize('mu', [1.0, 0.5])
def test_update_writes_and_relabels_by_hand(mu):
    memory = filled_memory(mu=mu)
    before = memory.feats.clone()
    idx = torch.tensor([3, 17, 25])
    keys = F.normalize(torch.randn(
        3, 8, generator=torch.Generator().manual_seed(5)), dim=1)
    memory.update(idx, keys)
    expected = F.normalize((1 - mu) * before[idx] + mu * keys, dim=1)
    torch.testing.assert_close(memory.feats[idx], expected)
    untouched = torch.ones(40, dtype=torch.bool)
    untouched[idx] = False
    assert torch.equal(memory.feats[untouched], before[untouched])
    # InterCLR's online rule: the largest dot product with the centroids.
    scores = expected @ memory.centroids.t()
    assert torch.equal(memory.labels[idx], scores.argmax(1))


def test_relabelling_takes_the_largest_dot_product_not_the_nearest():
    # A loose cluster (short mean) at 37 degrees from the feature and a
    # tight one (unit-length mean) at 53 degrees: the two rules disagree.
    centroids = torch.tensor([[0.3, 0.0], [0.0, 1.0]])
    f = torch.tensor([[0.8, 0.6]])
    # Dot products 0.24 and 0.60; squared distances 0.61 and 0.80.
    assert largest_dot_centroid(f, centroids).tolist() == [1]
    assert nearest_centroid(f, centroids).tolist() == [0]
    memory = PseudoLabelMemory(4, 2, 2, min_cluster=1)
    memory.fill(torch.tensor([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0],
                              [0.1, 1.0]]), torch.tensor([0, 0, 1, 1]),
                centroids)
    memory.update(torch.tensor([0]), f)
    assert memory.labels.tolist() == [1, 0, 1, 1]


@pytest.mark.parametrize('seed', range(4))
def test_recompute_centroids_equals_member_means(seed):
    memory = filled_memory()
    g = torch.Generator().manual_seed(seed)
    memory.update(torch.arange(12), F.normalize(
        torch.randn(12, 8, generator=g), dim=1))
    # An emptied cluster keeps its centroid (small-cluster handling refills
    # the id).
    memory.labels[memory.labels == 3] = 2
    before = memory.centroids.clone()
    memory.recompute_centroids()
    for cid in range(4):
        members = memory.feats[memory.labels == cid]
        expected = members.mean(0) if len(members) else before[cid]
        torch.testing.assert_close(memory.centroids[cid], expected)


def test_small_clusters_are_dissolved_and_ids_refilled():
    memory = filled_memory(min_cluster=4)
    # Shrink cluster of sample 0 to 2 members, and empty another id.
    first = int(memory.labels[0])
    members = (memory.labels == first).nonzero().squeeze(1)
    other = (first + 1) % 4
    memory.labels[members[2:]] = other
    gone = (first + 2) % 4
    memory.labels[memory.labels == gone] = (first + 3) % 4
    stats = memory.dissolve_small_clusters()
    assert stats['dissolved'] == 2 and stats['moved'] == 2
    counts = torch.bincount(memory.labels, minlength=4)
    assert counts.min() >= 4 and counts.sum() == 40
    assert memory.cluster_stats()['empty'] == 0


def test_memory_is_in_the_state_dict_and_checks_its_arguments():
    memory = filled_memory()
    state = memory.state_dict()
    assert {'feats', 'labels', 'centroids', 'initialized'} <= set(state)
    fresh = PseudoLabelMemory(40, 8, 4, min_cluster=3)
    fresh.load_state_dict(state)
    assert torch.equal(fresh.labels, memory.labels)
    for kwargs, message in [
        (dict(momentum=0.0), 'momentum=0.0'),
        (dict(min_cluster=11), 'min_cluster=11'),
        (dict(num_clusters=41), 'num_clusters=41'),
    ]:
        args = dict(length=40, feat_dim=8, num_clusters=4)
        args.update(kwargs)
        with pytest.raises(ValueError, match=message):
            PseudoLabelMemory(**args)


def sampling_case(seed=0, b=6, n=60, classes=5):
    g = torch.Generator().manual_seed(seed)
    memory_labels = torch.randint(0, classes, (n, ), generator=g)
    query_labels = memory_labels[:b].clone()
    sims = torch.rand(b, n, generator=g) * 2 - 1
    return sims, query_labels, memory_labels, g


def test_positives_share_the_query_label_and_cover_the_class():
    _, q, m, g = sampling_case()
    seen = set()
    for _ in range(200):
        pos = sample_positives(q, m, generator=g)
        assert torch.equal(m[pos], q)
        seen.update(pos[:1].tolist())
    assert seen == set((m == q[0]).nonzero().squeeze(1).tolist())


@pytest.mark.parametrize('strategy', ['random', 'hard', 'semihard',
                                      'semieasy'])
def test_negatives_never_share_the_label_and_come_from_their_pool(strategy):
    sims, q, m, g = sampling_case()
    neg = sample_negatives(sims, q, m, 8, strategy, pool=20, generator=g)
    assert neg.shape == (6, 8)
    assert (m[neg] != q[:, None]).all()
    if strategy != 'random':  # without replacement
        assert all(len(set(row)) == 8 for row in neg.tolist())
    masked = sims.masked_fill(m[None] == q[:, None], float('nan'))
    for i in range(6):
        valid = (~masked[i].isnan()).nonzero().squeeze(1)
        order = valid[masked[i, valid].argsort(descending=True)]
        chosen = set(neg[i].tolist())
        if strategy == 'hard':  # the most similar of other labels
            assert chosen == set(order[:8].tolist())
        elif strategy == 'semihard':  # the 20 most similar other-label
            assert chosen <= set(order[:20].tolist())
        elif strategy == 'semieasy':  # the 20 least similar other-label
            assert chosen <= set(order[-20:].tolist())
        else:
            assert chosen <= set(valid.tolist())


def test_random_negatives_cover_every_other_entry_uniformly():
    sims, q, m, g = sampling_case(n=30, classes=3)
    draws = sample_negatives(sims[:1].expand(4000, -1), q[:1].expand(4000),
                             m, 5, 'random', generator=g).reshape(-1)
    others = (m != q[0]).nonzero().squeeze(1)
    counts = torch.bincount(draws, minlength=30)
    assert set(draws.unique().tolist()) == set(others.tolist())
    expected = 20000 / len(others)
    assert (counts[others].float() - expected).abs().max() < 0.15 * expected


def test_sampling_errors_are_named():
    sims, q, m, _ = sampling_case()
    with pytest.raises(ValueError, match="strategy='hardest'"):
        sample_negatives(sims, q, m, 4, 'hardest')
    with pytest.raises(ValueError, match='num=100'):
        sample_negatives(sims, q, m, 100, 'random')
    with pytest.raises(ValueError, match='pool=2'):
        sample_negatives(sims, q, m, 4, 'semihard', pool=2)
    # A pool as small as the draw still has enough other-label entries.
    neg = sample_negatives(sims, q, m, 5, 'semihard', pool=5)
    assert (m[neg] != q[:, None]).all()


@pytest.mark.parametrize('seed', range(3))
def test_after_small_cluster_handling_none_is_under_the_minimum(seed):
    g = torch.Generator().manual_seed(seed)
    feats = F.normalize(torch.randn(200, 8, generator=g), dim=1)
    # Skewed labels: most samples in two clusters, some ids tiny or empty.
    labels = torch.multinomial(torch.tensor(
        [40., 30., 1., 1., 0.5, 0.2, 0., 0.]), 200, replacement=True,
        generator=g)
    memory = PseudoLabelMemory(200, 8, 8, min_cluster=10)
    memory.fill(feats, labels, torch.zeros(8, 8))
    memory.recompute_centroids()
    memory.dissolve_small_clusters()
    counts = torch.bincount(memory.labels, minlength=8)
    assert counts.min() >= 10 and counts.sum() == 200


def test_memory_logits_gradient_equals_autograd_on_the_old_rows():
    from bsim_plugin.models.memories import memory_logits
    g = torch.Generator().manual_seed(0)
    feats = F.normalize(torch.randn(30, 8, generator=g), dim=1)
    q = F.normalize(torch.randn(4, 8, generator=g), dim=1).requires_grad_()
    idx = torch.randint(0, 30, (4, 6), generator=g)
    idx[0, :2] = torch.tensor([7, 7])  # a repeated entry counts twice
    idx[1, 0] = 3  # an entry written after the forward
    weights = torch.randn(4, 6, generator=g)
    live = feats.clone()
    with torch.no_grad():
        sims = q @ live.t()
    written = torch.tensor([3, 11])
    logits = memory_logits(q, sims, idx, live, written, live[written].clone())
    live[written] = F.normalize(torch.randn(2, 8, generator=g), dim=1)
    (weights * logits).sum().backward()
    reference = q.detach().clone().requires_grad_()
    ref_logits = torch.einsum('bd,bkd->bk', reference, feats[idx])
    (weights * ref_logits).sum().backward()
    torch.testing.assert_close(logits, ref_logits.detach())
    torch.testing.assert_close(q.grad, reference.grad)


@pytest.mark.parametrize('strategy', ['hard', 'semihard', 'semieasy'])
def test_nearest_strategies_use_exactly_their_pool(strategy):
    """Queries whose labels have different sizes (so the candidates of some
    hold extra other-label entries): over many draws, every entry of the
    pool is drawn and nothing else."""
    g = torch.Generator().manual_seed(5)
    m = torch.multinomial(torch.tensor([8., 4., 2., 1.]), 60,
                          replacement=True, generator=g)
    q = torch.tensor([0, 1, 2, 3])[torch.bincount(m, minlength=4) > 0]
    sims = torch.rand(len(q), 60, generator=g)
    pool = 8 if strategy == 'hard' else 12
    seen = [set() for _ in q]
    for _ in range(300):
        neg = sample_negatives(sims, q, m, 8, strategy, pool=pool,
                               generator=g)
        assert (m[neg] != q[:, None]).all()
        for i, row in enumerate(neg.tolist()):
            assert len(set(row)) == 8
            seen[i].update(row)
    for i in range(len(q)):
        others = (m != q[i]).nonzero().squeeze(1)
        order = others[sims[i, others].argsort(
            descending=strategy != 'semieasy')]
        assert seen[i] == set(order[:pool].tolist()), i
