"""BSIM on MoCo v2, BYOL and SimSiam: each equals its mmpretrain base with
``bsim_weight=0``, its BSIM term matches a hand computation, gradients reach
the online encoder only, and MoCo's queue takes only clean keys, in FIFO
order."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from bsim_plugin.models.utils import attach_mix_info, mixup, pair_indices
from helpers import tiny_base_cfg

KINDS = ('moco', 'byol', 'simsiam')
BASE_TYPES = dict(moco='MoCo', byol='BYOL', simsiam='SimSiam')


@pytest.fixture(autouse=True)
def max_iters():
    # BYOL's CosineEMA reads the schedule length from the message hub.
    MessageHub.get_current_instance().update_info('max_iters', 100)


def mixed_batch(n=6, seed=0, size=12):
    g = torch.Generator().manual_seed(seed)
    v1 = torch.randn(n, 1, size, size, generator=g)
    v2 = torch.randn(n, 1, size, size, generator=g)
    lam = torch.rand(n, generator=g)
    partner = pair_indices(n, 'reverse')
    samples = [DataSample() for _ in range(n)]
    attach_mix_info(samples, lam, partner)
    return [v1, v2, mixup(v1, v1, lam, partner)], samples, lam, partner


def build(kind, **kwargs):
    torch.manual_seed(0)
    return MODELS.build(tiny_base_cfg(kind, **kwargs))


def mmpretrain_base(kind, model):
    cfg = tiny_base_cfg(kind)
    cfg.update(type=BASE_TYPES[kind], data_preprocessor=None)
    if kind == 'moco':
        cfg['head'] = dict(
            type='ContrastiveHead',
            loss=dict(type='CrossEntropyLoss'),
            temperature=0.2)
    base = MODELS.build(cfg)
    base.load_state_dict(model.state_dict())
    return base


@pytest.mark.parametrize('kind', KINDS)
def test_bsim_weight_zero_is_the_mmpretrain_base(kind):
    model = build(kind, bsim_weight=0.0)
    base = mmpretrain_base(kind, model)
    inputs, samples, _, _ = mixed_batch()
    torch.manual_seed(1)  # MoCo's batch shuffle draws a permutation
    ours = model.loss(inputs, samples)
    torch.manual_seed(1)
    theirs = base.loss(inputs[:2], samples)
    assert set(ours) == {'loss_sim'}
    torch.testing.assert_close(ours['loss_sim'], theirs['loss'])
    # The momentum / target encoders and MoCo's queue moved identically.
    torch.testing.assert_close(model.state_dict(), base.state_dict())


def moco_bsim_by_hand(model, inputs, lam, partner, queue):
    with torch.no_grad():
        q_m = F.normalize(model.neck(model.backbone(inputs[2]))[0], dim=1)
        k = F.normalize(model.encoder_k(inputs[1])[0], dim=1)
    tau = model.head.temperature
    total = 0.0
    for i in range(len(lam)):
        neg = (q_m[i] @ queue / tau).tolist()
        for key, weight in ((k[i], lam[i]), (k[partner[i]], 1 - lam[i])):
            pos = float(q_m[i] @ key) / tau
            log_norm = torch.logsumexp(torch.tensor([pos] + neg), 0)
            total += float(weight) * float(log_norm - pos)
    return total / len(lam)


def latent_bsim_by_hand(kind, model, inputs, lam, partner):
    with torch.no_grad():
        pred = model.head.predictor([model.neck(model.backbone(inputs[2]))[0]
                                     ])[0]
        if kind == 'byol':
            target = model.target_net(inputs[1])[0]
        else:
            target = model.neck(model.backbone(inputs[1]))[0]
    factor = 2.0 if kind == 'byol' else 0.5
    total = 0.0
    for i in range(len(lam)):
        own = F.cosine_similarity(pred[i], target[i], dim=0)
        other = F.cosine_similarity(pred[i], target[partner[i]], dim=0)
        total += -float(lam[i]) * float(own) - (1 - float(lam[i])) * float(
            other)
    return factor * total / len(lam)


@pytest.mark.parametrize('kind', KINDS)
def test_bsim_term_by_hand(kind):
    model = build(kind, norm='GN', bsim_weight=0.5)
    inputs, samples, lam, partner = mixed_batch()
    queue = model.queue.clone() if kind == 'moco' else None
    losses = model.loss(inputs, samples)
    # After the step: the EMA encoders hold the weights used for the keys.
    if kind == 'moco':
        expected = moco_bsim_by_hand(model, inputs, lam, partner, queue)
    else:
        expected = latent_bsim_by_hand(kind, model, inputs, lam, partner)
    assert losses['loss_bsim'].item() == pytest.approx(
        0.5 * expected, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize('kind', KINDS)
def test_gradient_reaches_the_online_encoder_only(kind):
    model = build(kind)
    frozen = (model.encoder_k if kind == 'moco' else
              model.target_net if kind == 'byol' else None)
    inputs, samples, _, _ = mixed_batch()
    losses = model.loss(inputs, samples)
    before = copy.deepcopy(frozen.state_dict()) if frozen else None
    losses['loss_bsim'].backward()
    online = [p for p in model.backbone.parameters()]
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in online[:3])
    if frozen is not None:
        assert all(p.grad is None for p in frozen.parameters())
        torch.testing.assert_close(frozen.state_dict(), before)


def test_moco_queue_takes_only_clean_keys_in_fifo_order():
    model = build('moco')  # queue 24, batch 6: four batches fill it
    batches = [mixed_batch(seed=s) for s in range(5)]
    initial = model.queue.clone()
    keys = []
    for step, (inputs, samples, _, _) in enumerate(batches):
        model.loss(inputs, samples)
        with torch.no_grad():
            keys.append(F.normalize(model.encoder_k(inputs[1])[0], dim=1))
        assert int(model.queue_ptr) == 6 * (step + 1) % 24
        if step == 0:
            # Only the first 6 columns changed: no mixture key enqueued.
            torch.testing.assert_close(model.queue[:, 6:], initial[:, 6:])
    # After 5 batches the oldest (batch 0) was overwritten by batch 4.
    expected = torch.cat([keys[4], keys[1], keys[2], keys[3]]).t()
    torch.testing.assert_close(model.queue, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    'kind, kwargs, message',
    [('moco', dict(bsim_weight=-1.0), 'bsim_weight=-1.0'),
     ('moco', dict(queue_len=0), 'queue_len=0'),
     ('moco', dict(head=dict(type='ContrastiveHead',
                             loss=dict(type='CrossEntropyLoss'))),
      'SoftTargetContrastiveHead'),
     ('byol', dict(bsim_weight=float('nan')), 'bsim_weight=nan'),
     ('simsiam', dict(data_preprocessor=dict(
         type='SelfSupDataPreprocessor')), 'MixtureDataPreprocessor'),
     ('byol', dict(head=dict(type='SoftTargetContrastiveHead')),
      'LatentPredictHead')])
def test_bad_configs_fail_at_build_naming_the_value(kind, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        build(kind, **kwargs)


def test_queue_length_not_a_multiple_of_the_batch_is_a_clear_error():
    model = build('moco', queue_len=25)
    inputs, samples, _, _ = mixed_batch()
    with pytest.raises(ValueError, match='queue_len=25 .* batch size 6'):
        model.loss(inputs, samples)


@pytest.mark.parametrize('kind', KINDS)
def test_train_step_through_preprocessor(kind):
    from mmengine.optim import OptimWrapper
    model = build(kind)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    views = [torch.randint(0, 255, (6, 1, 12, 12), dtype=torch.uint8)
             for _ in range(2)]
    log = model.train_step(
        dict(inputs=views, data_samples=[DataSample() for _ in range(6)]),
        optim)
    assert {'loss_sim', 'loss_bsim'} <= set(log)
    assert all(torch.isfinite(v) for v in log.values())


def pipeline_form(inputs, lam, partner):
    """The same mixtures as the batch form, as MixWithPartner ships them:
    every partner's key view appended, mix_partner = -1."""
    samples = [DataSample() for _ in range(len(lam))]
    attach_mix_info(samples, lam, torch.full_like(partner, -1))
    return inputs + [inputs[1][partner]], samples


@pytest.mark.parametrize('kind', KINDS)
def test_pipeline_form_equals_batch_form_for_the_same_partners(kind):
    """With the partners' key views shipped with the batch, the loss is the
    batch form's (the partner keys are the same images; GroupNorm makes the
    extra key pass independent of the batch it runs in)."""
    inputs, samples, lam, partner = mixed_batch()
    batch_model = build(kind, norm='GN')
    pipe_model = build(kind, norm='GN')
    torch.manual_seed(1)
    expected = batch_model.loss(inputs, samples)
    torch.manual_seed(1)
    got = pipe_model.loss(*pipeline_form(inputs, lam, partner))
    assert set(got) == {'loss_sim', 'loss_bsim'}
    for key in expected:
        torch.testing.assert_close(got[key], expected[key])
    if kind == 'moco':  # only the batch's own clean keys were enqueued
        torch.testing.assert_close(pipe_model.queue, batch_model.queue)


def test_pipeline_form_simclr_by_hand():
    """SimCLR's key set (the N second views) gains the partners' key
    embeddings as N more columns; the target puts lam on column i and
    1 - lam on sample i's partner column N + i."""
    from helpers import tiny_model_cfg
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(norm='GN', bsim_weight=1.0))
    inputs, _, lam, partner = mixed_batch()
    pipe_inputs, samples = pipeline_form(inputs, lam, partner)
    losses = model.loss(pipe_inputs, samples)

    def project(x):
        return F.normalize(model.neck(model.backbone(x))[0], dim=1)

    with torch.no_grad():
        n = len(lam)
        z2 = project(inputs[1])
        keys = torch.cat([z2, project(pipe_inputs[3])])
        logits = project(inputs[2]) @ keys.t() / model.head.temperature
    expected = 0.0
    for i in range(n):
        log_norm = torch.logsumexp(logits[i], 0)
        expected += -(float(lam[i]) * float(logits[i, i] - log_norm) +
                      (1 - float(lam[i])) *
                      float(logits[i, n + i] - log_norm))
    assert losses['loss_bsim'].item() == pytest.approx(
        expected / n, rel=1e-5)


def test_mixed_forms_in_one_batch_are_a_clear_error():
    model = build('moco')
    inputs, _, lam, partner = mixed_batch()
    partner = partner.clone()
    partner[0] = -1
    samples = [DataSample() for _ in range(len(lam))]
    attach_mix_info(samples, lam, partner)
    with pytest.raises(ValueError, match='batch-form and pipeline-form'):
        model.loss(inputs + [inputs[1]], samples)
