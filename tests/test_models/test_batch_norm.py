"""Split BatchNorm and frozen running statistics: against plain BatchNorm on
the sub-batches, through mmpretrain's and mmdet's ResNets, in a one-process
MoCo step, and in every BSIM algorithm's step."""
import copy

import pytest
import torch
import torch.nn as nn
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from bsim_plugin.models.utils import (SplitBatchNorm2d, attach_mix_info,
                                      mixup, pair_indices,
                                      running_stats_frozen)
from helpers import tiny_base_cfg, tiny_model_cfg


def batch(n=16, c=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, c, 5, 5, generator=g) * 2 + 1


def stats(module):
    return {
        k: v.clone()
        for k, v in module.state_dict().items()
        if 'running_' in k or 'num_batches_tracked' in k
    }


def test_one_split_is_batch_norm():
    x = batch().requires_grad_()
    split = SplitBatchNorm2d(3, num_splits=1)
    plain = nn.BatchNorm2d(3)
    out = split(x)
    torch.testing.assert_close(out, plain(x))
    torch.testing.assert_close(stats(split), stats(plain))
    grad, = torch.autograd.grad(out.square().sum(), x)
    ref, = torch.autograd.grad(plain(x).square().sum(), x)
    torch.testing.assert_close(grad, ref)


def test_each_split_is_normalised_alone_and_running_stats_are_averaged():
    g = 4
    x = batch(n=16)
    split = SplitBatchNorm2d(3, num_splits=g, momentum=0.3)
    with torch.no_grad():
        split.weight.uniform_(0.5, 2)
        split.bias.uniform_(-1, 1)
    out = split(x)
    means, vars_ = [], []
    for j in range(g):
        # Split j is every g-th sample; alone in a plain BatchNorm.
        plain = nn.BatchNorm2d(3, momentum=0.3)
        plain.load_state_dict(split.state_dict())
        plain.running_mean.zero_()
        plain.running_var.fill_(1)
        torch.testing.assert_close(out[j::g], plain(x[j::g]))
        means.append(plain.running_mean)
        vars_.append(plain.running_var)
    torch.testing.assert_close(split.running_mean, torch.stack(means).mean(0))
    torch.testing.assert_close(split.running_var, torch.stack(vars_).mean(0))
    assert int(split.num_batches_tracked) == 1
    # A sample's output depends only on its own split.
    y = x.clone()
    y[1::g] += 5
    changed = split(y)
    keep = [i for i in range(16) if i % g != 1]
    torch.testing.assert_close(changed[keep], out[keep])
    assert not torch.allclose(changed[1::g], out[1::g])


def test_eval_mode_uses_the_averaged_running_stats():
    split = SplitBatchNorm2d(3, num_splits=4)
    for seed in range(3):
        split(batch(seed=seed))
    split.eval()
    x = batch(n=3, seed=7)
    plain = nn.BatchNorm2d(3).eval()
    plain.load_state_dict(split.state_dict())
    torch.testing.assert_close(split(x), plain(x))


def test_bad_split_values_are_named():
    with pytest.raises(ValueError, match='num_splits=0'):
        SplitBatchNorm2d(3, num_splits=0)
    with pytest.raises(ValueError, match='batch of 6 .* num_splits=4'):
        SplitBatchNorm2d(3, num_splits=4)(batch(n=6))
    # Eval mode takes any batch.
    SplitBatchNorm2d(3, num_splits=4).eval()(batch(n=6))


@pytest.mark.parametrize('scope', ['mmpretrain', 'mmdet'])
def test_builds_in_mmpretrain_and_mmdet_resnets_and_exports_to_plain_bn(
        scope):
    if scope == 'mmdet':
        from mmdet.registry import MODELS as registry
        import mmdet.models  # noqa: F401 (registers mmdet's ResNet)
    else:
        registry = MODELS
    cfg = dict(type='ResNet', depth=18, in_channels=1,
               norm_cfg=dict(type='SplitBN', num_splits=4))
    with DefaultScope.overwrite_default_scope(scope):
        torch.manual_seed(0)
        model = registry.build(cfg)
        plain = registry.build(dict(cfg, norm_cfg=dict(type='BN')))
    assert type(model).__module__.startswith(scope)
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(isinstance(m, SplitBatchNorm2d) for m in norms)
    assert all(m.num_splits == 4 for m in norms)
    model.train()
    model(torch.randn(8, 1, 32, 32))
    # Its checkpoint loads strictly into a plain-BN ResNet: same names.
    plain.load_state_dict(model.state_dict(), strict=True)
    x = torch.randn(2, 1, 32, 32)
    model.eval()  # (the ResNets' train() returns None)
    plain.eval()
    with torch.no_grad():
        for a, b in zip(model(x), plain(x)):
            torch.testing.assert_close(a, b)


def test_frozen_running_stats_normalise_with_the_batch_and_write_nothing():
    bn = nn.BatchNorm2d(3)
    split = SplitBatchNorm2d(3, num_splits=4)
    x = batch().requires_grad_()
    before = [stats(bn), stats(split)]
    ref = nn.BatchNorm2d(3)(x)  # training-mode output of a fresh BN
    with running_stats_frozen(bn, split):
        out = bn(x)
        split(x)
    torch.testing.assert_close(out, ref)
    assert all(torch.equal(a, b) for m, s in zip((bn, split), before)
               for a, b in zip(stats(m).values(), s.values()))
    assert bn.track_running_stats and split.track_running_stats
    grad, = torch.autograd.grad(out.square().sum(), x)
    assert grad.abs().sum() > 0
    # Afterwards the layers write their statistics again.
    bn(x)
    assert int(bn.num_batches_tracked) == 1


def groups(layer, n):
    """For each sample position, the set of positions normalised together."""
    if isinstance(layer, SplitBatchNorm2d):
        return [set(range(p % layer.num_splits, n, layer.num_splits))
                for p in range(n)]
    return [set(range(n)) for _ in range(n)]


@pytest.mark.parametrize('norm', ['SplitBN', 'BN'])
def test_one_process_moco_keys_see_other_groups_than_their_queries(norm):
    cfg = tiny_base_cfg('moco', bsim_weight=0.0)
    cfg['backbone']['norm_cfg'] = dict(type='SplitBN', num_splits=4) \
        if norm == 'SplitBN' else dict(type='BN')
    cfg['queue_len'] = 32
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    n = 32
    v1, v2 = batch(n=n, c=1, seed=1), batch(n=n, c=1, seed=2)
    seen = {}
    model.encoder_k.module[0].register_forward_pre_hook(
        lambda m, args: seen.__setitem__('keys', args[0].clone()))
    torch.manual_seed(3)
    model.loss([v1, v2], None)
    # Where each sample's key view went in the key encoder's batch.
    keys = seen['keys'].flatten(1)
    position = [int((keys == row).all(1).nonzero()) for row in v2.flatten(1)]
    query_groups = groups(model.backbone.norm1, n)
    key_groups = groups(model.encoder_k.module[0].norm1, n)
    # Samples by their batch index, for queries (no shuffle) and keys.
    order = {p: i for i, p in enumerate(position)}
    same = [
        query_groups[i] == {order[p] for p in key_groups[position[i]]}
        for i in range(n)
    ]
    if norm == 'SplitBN':
        assert not any(same)
    else:  # the leak: every key normalised with its query's statistics
        assert all(same)


def mixed_inputs(n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    v1 = torch.randn(n, 1, 12, 12, generator=g)
    v2 = torch.randn(n, 1, 12, 12, generator=g)
    lam = torch.rand(n, generator=g)
    partner = pair_indices(n, 'reverse')
    samples = [DataSample() for _ in range(n)]
    attach_mix_info(samples, lam, partner)
    return [v1, v2, mixup(v1, v1, lam, partner)], samples


@pytest.mark.parametrize('kind', ['simclr', 'moco', 'byol', 'simsiam', 'sane'])
def test_a_mixture_step_leaves_the_running_stats_of_the_base_step(kind):
    MessageHub.get_current_instance().update_info('max_iters', 100)
    weight = 'mixup_weight' if kind == 'sane' else 'bsim_weight'
    cfg = tiny_model_cfg() if kind == 'simclr' else tiny_base_cfg(kind)
    torch.manual_seed(0)
    model = MODELS.build(dict(cfg, **{weight: 1.0 if kind != 'sane' else
                                      0.5}))
    model.train_progress = (0, 100)  # read by SANE only
    base = copy.deepcopy(model)
    setattr(base, weight, 0.0)
    inputs, samples = mixed_inputs()
    if kind == 'sane':  # momentum mixup mixes the query with the key view
        inputs[2] = mixup(inputs[0], inputs[1], torch.full((8,), 0.4),
                          pair_indices(8, 'reverse'))
    torch.manual_seed(1)
    with_mixture = model.loss(inputs, samples)
    torch.manual_seed(1)
    base.loss(inputs[:2], samples)
    assert set(with_mixture) - {'sane_mu'} > {'loss_sim'}
    ours, theirs = stats(model), stats(base)
    assert ours.keys() == theirs.keys() and len(ours) > 10
    for key in ours:
        torch.testing.assert_close(ours[key], theirs[key], msg=key)
