"""InterCLR on MoCo v2: both branches against a hand computation (against
the memory and queue before the step), the memory written and re-labelled
after it, the warm-up, and clear errors."""
import copy
import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from bsim_plugin.models.memories import kmeans
from helpers import tiny_base_cfg, tiny_neck


def build(fill=True, **kwargs):
    torch.manual_seed(0)
    model = MODELS.build(tiny_base_cfg('interclr', norm='GN', **kwargs))
    model.train_progress = (0, None)  # no runner: iteration 0
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
    model.train_progress = (2, None)
    assert set(model.loss(views, samples)) == {'loss_intra'}
    model.train_progress = (3, None)
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


def test_separate_inter_neck_feeds_the_inter_branch_and_the_memory():
    model = build(inter_neck=tiny_neck(norm='GN'))
    shared = build()
    assert not any('inter_neck' in k for k in shared.state_dict())
    assert any(k.startswith('inter_neck_k.') for k in model.state_dict())
    views, samples, idx = batch()
    memory = copy.deepcopy(model.memory)
    losses = model.loss(views, samples)
    with torch.no_grad():
        feats = model.backbone(views[0])
        q = F.normalize(model.inter_neck(feats)[0], dim=1)
        # The momentum copies have already taken this step's EMA update.
        k = F.normalize(
            model.inter_neck_k(model.encoder_k.module[0](views[1]))[0], dim=1)
    pos, neg = model.last_inter
    inter = sum(
        ce(float(q[i] @ memory.feats[pos[i]]),
           (memory.feats[neg[i]] @ q[i]).tolist(), 0.2, margin=-0.5)
        for i in range(8)) / 8
    assert losses['loss_inter'].item() == pytest.approx(0.25 * inter,
                                                        rel=1e-5)
    # The memory holds the momentum inter neck's keys (momentum 1), and
    # the hook fills it with the same function.
    torch.testing.assert_close(model.memory.feats[idx], k)
    torch.testing.assert_close(model.memory_keys(views[1]), k)
    # Each neck learns from its own branch only.
    losses['loss_inter'].backward(retain_graph=True)
    assert all(p.grad is None for p in model.neck.parameters())
    assert model.inter_neck.fc0.weight.grad.abs().sum() > 0
    model.zero_grad(set_to_none=True)
    losses['loss_intra'].backward()
    assert all(p.grad is None for p in model.inter_neck.parameters())
    assert all(p.grad is None for p in model.inter_neck_k.parameters())


def test_separate_inter_neck_moves_with_the_momentum_encoder():
    model = build(inter_neck=tiny_neck(norm='GN'))
    # mmengine's EMA copies the source on its first update (as MoCo's
    # encoder_k): take one step, then move the online neck.
    model.loss(*batch()[:2])
    with torch.no_grad():
        for p in model.inter_neck.parameters():
            p.add_(1.0)
    before = [p.clone() for p in model.inter_neck_k.module.parameters()]
    model.loss(*batch()[:2])
    for b, avg, src in zip(before, model.inter_neck_k.module.parameters(),
                           model.inter_neck.parameters()):
        # mmengine's EMA: avg <- (1 - m) avg + m src, m = 0.01.
        torch.testing.assert_close(avg, 0.99 * b + 0.01 * src)


def test_separate_inter_neck_in_warm_up_has_a_zero_loss_on_it():
    model = build(inter_neck=tiny_neck(norm='GN'), warmup_iters=3)
    losses = model.loss(*batch()[:2])
    assert losses['loss_inter'].item() == 0.0
    sum(losses.values()).backward()
    # Every parameter takes part (DDP needs it); the inter neck's is zero.
    assert model.inter_neck.fc0.weight.grad.abs().sum() == 0


def test_inter_neck_width_must_match_the_memory():
    with pytest.raises(ValueError, match='inter_neck.out_channels=8'):
        build(fill=False, inter_neck=tiny_neck(out_channels=8, norm='GN'))
