"""InterCLR on MoCo v2: both branches against a hand computation (against
the memory and queue before the step), the memory written and re-labelled
after it, the warm-up, and clear errors."""
import copy
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from bsim_plugin.models.memories import kmeans
from helpers import tiny_base_cfg


@pytest.fixture(autouse=True)
def iteration():
    MessageHub.get_current_instance().update_info('iter', 0)


def build(fill=True, **kwargs):
    torch.manual_seed(0)
    model = MODELS.build(tiny_base_cfg('interclr', norm='GN', **kwargs))
    if fill:
        g = torch.Generator().manual_seed(1)
        feats = F.normalize(torch.randn(32, 16, generator=g), dim=1)
        centroids, labels = kmeans(feats, 4, backend='torch')
        model.memory.fill(feats, labels, centroids)
    return model


def batch(n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    views = [torch.randn(n, 1, 12, 12, generator=g) for _ in range(2)]
    idx = torch.randperm(32, generator=g)[:n]
    samples = [DataSample(metainfo=dict(sample_idx=int(i))) for i in idx]
    return views, samples, idx


def ce(pos, negs, tau, margin=0.0):
    pos = (pos - margin) / tau
    logits = [pos] + [n / tau for n in negs]
    return math.log(sum(math.exp(x) for x in logits)) - pos


def test_both_branches_by_hand_and_the_memory_moves_after():
    model = build()
    views, samples, idx = batch()
    queue = model.queue.clone()
    memory = copy.deepcopy(model.memory)
    losses = model.loss(views, samples)
    assert set(losses) == {'loss_intra', 'loss_inter'}
    with torch.no_grad():
        q = F.normalize(model.neck(model.backbone(views[0]))[0], dim=1)
        k = F.normalize(model.encoder_k(views[1])[0], dim=1)
    intra = sum(ce(float(q[i] @ k[i]), (q[i] @ queue).tolist(), 0.2)
                for i in range(8)) / 8
    pos, neg = model.last_inter
    labels = memory.labels[idx]
    assert torch.equal(memory.labels[pos], labels)
    assert (memory.labels[neg] != labels[:, None]).all()
    inter = sum(
        ce(float(q[i] @ memory.feats[pos[i]]),
           (memory.feats[neg[i]] @ q[i]).tolist(), 0.2, margin=-0.5)
        for i in range(8)) / 8
    assert losses['loss_intra'].item() == pytest.approx(0.75 * intra,
                                                        rel=1e-5)
    assert losses['loss_inter'].item() == pytest.approx(0.25 * inter,
                                                        rel=1e-5)
    # After the losses: keys written (momentum 1) and re-labelled.
    torch.testing.assert_close(model.memory.feats[idx], k)
    d = torch.cdist(k, model.memory.centroids)
    counts = torch.bincount(model.memory.labels, minlength=4)
    assert counts.min() >= 2
    untouched = torch.ones(32, dtype=torch.bool)
    untouched[idx] = False
    assert torch.equal(model.memory.feats[untouched], memory.feats[untouched])
    assert int(model.queue_ptr) == 8
    assert d.shape == (8, 4)


def test_warm_up_trains_the_intra_branch_alone():
    model = build(warmup_iters=3)
    views, samples, _ = batch()
    MessageHub.get_current_instance().update_info('iter', 2)
    assert set(model.loss(views, samples)) == {'loss_intra'}
    MessageHub.get_current_instance().update_info('iter', 3)
    assert set(model.loss(views, samples)) == {'loss_intra', 'loss_inter'}


def test_gradient_reaches_the_online_encoder_only():
    model = build()
    views, samples, _ = batch()
    losses = model.loss(views, samples)
    (losses['loss_intra'] + losses['loss_inter']).backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.encoder_k.parameters())
    assert not model.memory.feats.requires_grad


def test_empty_memory_and_missing_indices_are_clear_errors():
    model = build(fill=False)
    views, samples, _ = batch()
    with pytest.raises(RuntimeError, match='InterCLRMemoryHook'):
        model.loss(views, samples)
    model = build()
    with pytest.raises(ValueError, match='sample_idx'):
        model.loss(views, [DataSample() for _ in range(8)])


@pytest.mark.parametrize('kwargs, message', [
    (dict(negative_strategy='hardest'), "negative_strategy='hardest'"),
    (dict(num_negatives=0), 'num_negatives=0'),
    (dict(negative_pool=4), 'negative_pool=4'),
    (dict(inter_weight=-1.0), 'inter_weight=-1.0'),
    (dict(warmup_iters=-1), 'warmup_iters=-1'),
    (dict(num_negatives=40), 'num_negatives=40'),
    (dict(inter_head=dict(type='ContrastiveHead',
                          loss=dict(type='CrossEntropyLoss'))),
     'inter_head must be a SoftTargetContrastiveHead'),
])
def test_bad_configs_fail_at_build_naming_the_value(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        build(fill=False, **kwargs)


def test_offline_labels_keep_the_labels_between_reclusterings():
    model = build(label_update='offline')
    views, samples, idx = batch()
    labels = model.memory.labels.clone()
    centroids = model.memory.centroids.clone()
    model.loss(views, samples)
    assert torch.equal(model.memory.labels, labels)
    assert torch.equal(model.memory.centroids, centroids)
    # The features were written all the same.
    with torch.no_grad():
        k = F.normalize(model.encoder_k(views[1])[0], dim=1)
    torch.testing.assert_close(model.memory.feats[idx], k)
    with pytest.raises(ValueError, match="label_update='weekly'"):
        build(fill=False, label_update='weekly')
