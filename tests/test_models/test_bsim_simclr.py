import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from bsim_plugin.models.utils import attach_mix_info, mixup, pair_indices
from helpers import tiny_model_cfg


def mixed_batch(n=6, seed=0, size=12):
    g = torch.Generator().manual_seed(seed)
    v1 = torch.randn(n, 1, size, size, generator=g)
    v2 = torch.randn(n, 1, size, size, generator=g)
    lam = torch.rand(n, generator=g)
    partner = pair_indices(n, 'reverse')
    samples = [DataSample() for _ in range(n)]
    attach_mix_info(samples, lam, partner)
    return [v1, v2, mixup(v1, v1, lam, partner)], samples, lam, partner


def test_clean_term_is_mmpretrain_simclr():
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(bsim_weight=0.0))
    simclr_cfg = tiny_model_cfg()
    simclr_cfg.update(
        type='SimCLR',
        head=dict(
            type='ContrastiveHead',
            loss=dict(type='CrossEntropyLoss'),
            temperature=0.2),
        data_preprocessor=None)
    simclr = MODELS.build(simclr_cfg)
    simclr.load_state_dict(model.state_dict(), strict=False)
    inputs, samples, _, _ = mixed_batch()
    ours = model.loss(inputs, samples)
    theirs = simclr.loss(inputs[:2], samples)
    assert set(ours) == {'loss_sim'}
    torch.testing.assert_close(ours['loss_sim'], theirs['loss'])


def test_bsim_term_by_hand():
    """The mixture (made of first views) is scored against the N second
    views: lam on z2_i, 1 - lam on z2_j, the other second views negatives;
    the first views, its own sources among them, are not in its key set."""
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(bsim_weight=0.5))
    inputs, samples, lam, partner = mixed_batch()
    losses = model.loss(inputs, samples)

    def project(x):
        return F.normalize(model.neck(model.backbone(x))[0], dim=1)

    with torch.no_grad():
        z2 = project(torch.stack(inputs[:2], 1).flatten(0, 1))[1::2]
        zm = project(inputs[2])
    expected = 0.0
    n = len(lam)
    for i in range(n):
        logits = [float(zm[i] @ z2[k]) / 0.2 for k in range(n)]
        log_norm = math.log(sum(math.exp(v) for v in logits))
        j = int(partner[i])
        expected += -(float(lam[i]) * (logits[i] - log_norm) +
                      (1 - float(lam[i])) * (logits[j] - log_norm))
    expected = 0.5 * expected / n
    assert losses['loss_bsim'].item() == pytest.approx(expected, rel=1e-5)
    assert losses['loss_sim'].item() > 0


def test_partner_equal_to_self_puts_all_weight_on_own_view():
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg())
    inputs, samples, lam, _ = mixed_batch(n=5)
    # With reverse pairing and odd n, sample 2 is its own partner; the
    # target of that row must still sum to one.
    losses = model.loss(inputs, samples)
    assert torch.isfinite(losses['loss_bsim'])
    own = [DataSample() for _ in range(5)]
    attach_mix_info(own, lam, torch.arange(5))
    same = model.loss([inputs[0], inputs[1], inputs[0]], own)
    ones = [DataSample() for _ in range(5)]
    attach_mix_info(ones, torch.ones(5), torch.arange(5))
    torch.testing.assert_close(
        same['loss_bsim'],
        model.loss([inputs[0], inputs[1], inputs[0]], ones)['loss_bsim'])


def test_gradients_reach_backbone_through_both_terms():
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg())
    inputs, samples, _, _ = mixed_batch()
    losses = model.loss(inputs, samples)
    losses['loss_bsim'].backward()
    grad = model.backbone.conv1.weight.grad
    assert grad is not None and grad.abs().sum() > 0


def test_train_step_through_preprocessor_logs_both_losses():
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg())
    imgs = [torch.randint(0, 255, (4, 1, 12, 12), dtype=torch.uint8)] * 2
    data = dict(inputs=imgs, data_samples=[DataSample() for _ in range(4)])
    from mmengine.optim import OptimWrapper
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    log_vars = model.train_step(data, wrapper)
    assert {'loss', 'loss_sim', 'loss_bsim'} <= set(log_vars)
    torch.testing.assert_close(log_vars['loss'],
                               log_vars['loss_sim'] + log_vars['loss_bsim'])


def test_predict_gives_unit_embeddings():
    model = MODELS.build(tiny_model_cfg()).eval()
    out = model(torch.randn(3, 1, 12, 12), None, mode='predict')
    emb = torch.stack([s.embedding for s in out])
    assert emb.shape == (3, 32)
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(3))


def test_bad_configs_fail_at_build_naming_the_value():
    with pytest.raises(ValueError, match='bsim_weight=-1'):
        MODELS.build(tiny_model_cfg(bsim_weight=-1))
    bad_head = tiny_model_cfg(
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss')))
    with pytest.raises(TypeError, match='ContrastiveHead'):
        MODELS.build(bad_head)
    plain = tiny_model_cfg(
        data_preprocessor=dict(type='SelfSupDataPreprocessor'))
    with pytest.raises(TypeError, match='SelfSupDataPreprocessor'):
        MODELS.build(plain)
    # bsim_weight=0 is plain SimCLR and needs no mixture.
    plain['bsim_weight'] = 0.0
    MODELS.build(plain)
    with pytest.raises(ValueError, match="alpha=0"):
        MODELS.build(
            tiny_model_cfg(
                data_preprocessor=dict(
                    type='MixtureDataPreprocessor',
                    mixer=dict(type='InstanceMixer', alpha=0))))


def test_missing_mixture_information_is_a_clear_error():
    model = MODELS.build(tiny_model_cfg())
    inputs, _, _, _ = mixed_batch()
    with pytest.raises(ValueError, match='MixtureDataPreprocessor'):
        model.loss(inputs, [DataSample() for _ in range(6)])
