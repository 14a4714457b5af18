"""SANE: the self-labeling refinery against a direct computation, the whole
loss against a hand computation, MoCo v2 on the same key set when the
refinery and mixup are off, the ``mu`` ramp, and errors at build time."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from bsim_plugin.models.utils import (attach_mix_info, mixup, pair_indices,
                                      refine_labels)
from helpers import tiny_base_cfg


def build(**kwargs):
    torch.manual_seed(0)
    model = MODELS.build(tiny_base_cfg('sane', norm='GN', **kwargs))
    # No runner (no TrainProgressHook): the ramp stays at its start.
    model.train_progress = (0, 0)
    return model


def sane_batch(n=6, seed=0, size=12):
    """Two views and the momentum-mixup mixture: query view ``v1`` of each
    sample with the key view ``v2`` of its partner."""
    g = torch.Generator().manual_seed(seed)
    v1 = torch.randn(n, 1, size, size, generator=g)
    v2 = torch.randn(n, 1, size, size, generator=g)
    lam = torch.rand(n, generator=g)
    partner = pair_indices(n, 'reverse')
    samples = [DataSample() for _ in range(n)]
    attach_mix_info(samples, lam, partner)
    return [v1, v2, mixup(v1, v2, lam, partner)], samples, lam, partner


def refine_by_hand(sims, own, mu, temp):
    """One row of the refinery with Python floats."""
    e = [math.exp(s / temp) for s in sims]
    p = [x / sum(e) for x in e]
    rest = sum(e) - e[own]
    q = [0.0 if c == own else e[c] / rest for c in range(len(e))]
    z = 1 + mu * max(p) + mu * max(q)
    alpha, beta = mu * max(p) / z, mu * max(q) / z
    y = [(1 - alpha - beta) * (c == own) + alpha * p[c] + beta * q[c]
         for c in range(len(e))]
    return y, p, q, alpha, beta


def test_refinery_against_a_direct_computation():
    g = torch.Generator().manual_seed(0)
    sims = torch.rand(5, 9, generator=g) * 2 - 1
    own = torch.tensor([0, 3, 8, 2, 2])
    out = refine_labels(sims, own, mu=0.7, temperature=0.16)
    for i in range(5):
        y, p, q, alpha, beta = refine_by_hand(sims[i].tolist(), int(own[i]),
                                              0.7, 0.16)
        torch.testing.assert_close(out.labels[i], torch.tensor(y))
        torch.testing.assert_close(out.p[i], torch.tensor(p))
        torch.testing.assert_close(out.q[i], torch.tensor(q))
        assert out.alpha[i].item() == pytest.approx(alpha, rel=1e-5)
        assert out.beta[i].item() == pytest.approx(beta, rel=1e-5)
    # Distributions: non-negative, each row sums to 1; q has no own mass.
    for dist in (out.labels, out.p, out.q):
        assert (dist >= 0).all()
        torch.testing.assert_close(dist.sum(1), torch.ones(5))
    assert (out.q[torch.arange(5), own] == 0).all()


def test_refinery_with_mu_zero_is_one_hot_and_carries_no_gradient():
    sims = torch.rand(4, 7, requires_grad=True)
    own = torch.tensor([1, 0, 6, 3])
    out = refine_labels(sims, own, mu=0.0, temperature=0.2)
    assert torch.equal(out.labels, F.one_hot(own, 7).float())
    out = refine_labels(sims, own, mu=2.0, temperature=0.2)
    assert not any(
        t.requires_grad for t in (out.labels, out.p, out.q, out.alpha))
    # The own key is closest: it is the row's most likely column, so the
    # refined label keeps most of its mass there.
    sims = F.normalize(torch.randn(4, 8), dim=1) @ F.normalize(
        torch.randn(7, 8), dim=1).t()
    sims[torch.arange(4), own] = 1.0
    out = refine_labels(sims, own, mu=1.0, temperature=0.1)
    assert (out.labels.argmax(1) == own).all()


def sane_by_hand(model, inputs, lam, partner, queue, mu):
    """(1 - w) L(x, one-hot) and w L(x', y') with Python floats."""
    with torch.no_grad():
        def query(x):
            return F.normalize(model.neck(model.backbone(x))[0], dim=1)

        q, q_mix = query(inputs[0]), query(inputs[2])
        k = F.normalize(model.encoder_k(inputs[1])[0], dim=1)
    keys = torch.cat([k, queue.t()])
    tau = model.head.temperature
    temp = tau * model.label_temperature
    n = len(lam)
    labels = [
        refine_by_hand((k[i] @ keys.t()).tolist(), i, mu, temp)[0]
        for i in range(n)
    ]

    def ce(row_query, target):
        logits = (row_query @ keys.t() / tau).tolist()
        lse = math.log(sum(math.exp(s) for s in logits))
        return -sum(t * (s - lse) for t, s in zip(target, logits))

    vanilla = sum(ce(q[i], [float(c == i) for c in range(len(keys))])
                  for i in range(n)) / n
    mixed = 0.0
    for i in range(n):
        theta, j = float(lam[i]), int(partner[i])
        target = [theta * a + (1 - theta) * b
                  for a, b in zip(labels[i], labels[j])]
        mixed += ce(q_mix[i], target) / n
    w = model.mixup_weight
    return (1 - w) * vanilla, w * mixed


@pytest.mark.parametrize('mu', [0.0, 0.8])
def test_loss_by_hand(mu):
    model = build(mu_start=mu, mu_end=mu, mixup_weight=0.3)
    inputs, samples, lam, partner = sane_batch()
    queue = model.queue.clone()
    losses = model.loss(inputs, samples)
    assert set(losses) == {'loss_sim', 'loss_mm', 'sane_mu'}
    assert losses['sane_mu'].item() == pytest.approx(mu)
    # After the step: the momentum encoder holds the weights of the keys.
    vanilla, mixed = sane_by_hand(model, inputs, lam, partner, queue, mu)
    assert losses['loss_sim'].item() == pytest.approx(vanilla, rel=1e-5)
    assert losses['loss_mm'].item() == pytest.approx(mixed, rel=1e-5)


def test_refined_clean_target_option():
    inputs, samples, _, _ = sane_batch()
    losses = {}
    for clean in ('onehot', 'refined'):
        model = build(mu_start=1.0, mu_end=1.0, clean_target=clean)
        losses[clean] = model.loss(inputs, samples)
    # The refined target spreads mass over neighbours: a different loss.
    assert losses['refined']['loss_sim'] != losses['onehot']['loss_sim']
    torch.testing.assert_close(losses['refined']['loss_mm'],
                               losses['onehot']['loss_mm'])


def test_without_refinery_and_mixup_it_is_moco_v2_on_the_key_set():
    model = build(mu_start=0.0, mu_end=0.0, mixup_weight=0.0)
    inputs, samples, _, _ = sane_batch()
    queue = model.queue.clone()
    cfg = tiny_base_cfg('sane', norm='GN')
    cfg.update(type='MoCo', data_preprocessor=None, head=dict(
        type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
        temperature=0.2))
    moco = MODELS.build(cfg)
    moco.load_state_dict(model.state_dict())
    torch.manual_seed(1)
    losses = model.loss(inputs[:2], samples)
    torch.manual_seed(1)
    moco.loss(inputs[:2], samples)
    assert set(losses) == {'loss_sim', 'sane_mu'}
    # Cross-entropy at the own key over [batch keys | queue].
    with torch.no_grad():
        q = F.normalize(model.neck(model.backbone(inputs[0]))[0], dim=1)
        k = F.normalize(model.encoder_k(inputs[1])[0], dim=1)
    logits = q @ torch.cat([k, queue.t()]).t() / 0.2
    expected = F.cross_entropy(logits, torch.arange(6))
    torch.testing.assert_close(losses['loss_sim'], expected)
    # Storage is MoCo's: momentum encoder, queue and pointer moved alike.
    torch.testing.assert_close(model.state_dict(), moco.state_dict())


def test_gradient_reaches_the_online_encoder_only():
    model = build(mu_start=1.0, mu_end=1.0)
    inputs, samples, _, _ = sane_batch()
    losses = model.loss(inputs, samples)
    (losses['loss_sim'] + losses['loss_mm']).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in list(model.backbone.parameters())[:3])
    assert all(p.grad is None for p in model.encoder_k.parameters())


@pytest.mark.parametrize('it, expected', [(0, 0.5), (50, 5.25), (100, 10.0),
                                          (25, 10 - 9.5 * (1 + 2**-0.5) / 2)])
def test_mu_follows_a_cosine_ramp(it, expected):
    model = build(mu_start=0.5, mu_end=10.0)
    model.train_progress = (it, 100)
    assert model.current_mu() == pytest.approx(expected)


def test_train_step_through_the_preprocessor():
    from mmengine.optim import OptimWrapper
    model = build()
    g = torch.Generator().manual_seed(3)
    data = dict(
        inputs=[torch.randint(0, 255, (6, 1, 12, 12), generator=g).float()
                for _ in range(2)],
        data_samples=[DataSample() for _ in range(6)])
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    log = model.train_step(data, optim)
    assert {'loss', 'loss_sim', 'loss_mm', 'sane_mu'} <= set(log)
    assert math.isfinite(float(log['loss']))
    # sane_mu is logged, not added to the loss.
    assert float(log['loss']) == pytest.approx(
        float(log['loss_sim']) + float(log['loss_mm']), rel=1e-6)


@pytest.mark.parametrize('kwargs, message', [
    (dict(label_temperature=0.0), 'label_temperature=0.0'),
    (dict(mu_end=-1), 'mu_end=-1'),
    (dict(mixup_weight=1.5), 'mixup_weight=1.5'),
    (dict(clean_target='soft'), "clean_target='soft'"),
    (dict(queue_len=0), 'queue_len=0'),
    (dict(head=dict(type='ContrastiveHead',
                    loss=dict(type='CrossEntropyLoss'))),
     'SoftTargetContrastiveHead'),
    (dict(data_preprocessor=dict(type='SelfSupDataPreprocessor')),
     'mixup_weight=0.5 needs'),
    (dict(data_preprocessor=dict(type='MixtureDataPreprocessor',
                                 mix_views=(0, 0))),
     r'mix_views=\(0, 0\)'),
    (dict(data_preprocessor=dict(type='MixtureDataPreprocessor',
                                 mixer=None, mix_views=(0, 1))),
     'mixer=None'),
])
def test_bad_configs_fail_at_build_naming_the_value(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        build(**kwargs)


def test_no_mixture_preprocessor_needed_without_mixup():
    model = build(mixup_weight=0.0,
                  data_preprocessor=dict(type='SelfSupDataPreprocessor'))
    inputs, samples, _, _ = sane_batch()
    assert set(model.loss(inputs[:2], samples)) == {'loss_sim', 'sane_mu'}


def test_training_without_the_progress_hook_is_a_clear_error():
    model = build()
    model.train_progress = None
    views, samples = sane_batch()[:2]
    with pytest.raises(RuntimeError, match='TrainProgressHook'):
        model.loss(views, samples)
