import math

import pytest
import torch
from mmpretrain.models.heads import ContrastiveHead
from mmpretrain.registry import MODELS

from bsim_plugin.models.heads import SoftTargetContrastiveHead


def build(**kwargs):
    return MODELS.build(dict(type='SoftTargetContrastiveHead', **kwargs))


def test_soft_target_loss_by_hand():
    head = build(temperature=0.5)
    logits = torch.tensor([[0.2, -0.4, 0.8], [0.5, 0.1, -0.3]],
                          dtype=torch.float64)
    target = torch.tensor([[0.7, 0.3, 0.0], [0.0, 0.0, 1.0]],
                          dtype=torch.float64)
    expected = 0.0
    for row, y in zip(logits.tolist(), target.tolist()):
        z = sum(math.exp(s / 0.5) for s in row)
        expected += -sum(
            w * math.log(math.exp(s / 0.5) / z) for s, w in zip(row, y))
    expected /= 2
    assert head.loss(logits, target).item() == pytest.approx(expected, 1e-6)
    # Index targets are one-hot targets.
    one_hot = head.loss(logits, torch.tensor([0, 2]))
    dense = head.loss(
        logits, torch.tensor([[1., 0, 0], [0, 0, 1.]], dtype=torch.float64))
    torch.testing.assert_close(one_hot, dense)


def test_per_positive_loss_by_hand():
    head = build(temperature=0.2)
    pos = torch.tensor([[0.9, 0.1]], dtype=torch.float64)
    neg = torch.tensor([[0.3, -0.2, 0.0]], dtype=torch.float64)
    lam = 0.6

    def ce(p):
        z = math.exp(p / 0.2) + sum(math.exp(n / 0.2) for n in neg[0])
        return -math.log(math.exp(p / 0.2) / z)

    expected = lam * ce(0.9) + (1 - lam) * ce(0.1)
    weights = torch.tensor([[lam, 1 - lam]], dtype=torch.float64)
    got = head.loss_per_positive(pos, neg, weights)
    assert got.item() == pytest.approx(expected, rel=1e-6)
    # Default weights average the positives.
    got = head.loss_per_positive(pos, neg)
    assert got.item() == pytest.approx((ce(0.9) + ce(0.1)) / 2, rel=1e-6)


def test_single_positive_equals_mmpretrain_contrastive_head():
    torch.manual_seed(0)
    pos, neg = torch.rand(6, 1) * 2 - 1, torch.rand(6, 10) * 2 - 1
    ours = build(temperature=0.1).loss_per_positive(pos, neg)
    theirs = ContrastiveHead(
        loss=dict(type='CrossEntropyLoss'),
        temperature=0.1).loss(pos.clone(), neg.clone())
    torch.testing.assert_close(ours, theirs)
    # And the dense form with a one-hot target on the positive.
    dense = build(temperature=0.1).loss(
        torch.cat([pos, neg], 1), torch.zeros(6, dtype=torch.long))
    torch.testing.assert_close(dense, theirs)


def test_margins_by_hand():
    pos = torch.tensor([[0.6]], dtype=torch.float64)
    neg = torch.tensor([[0.1, 0.2]], dtype=torch.float64)
    tau = 0.2

    def ce(p):
        z = math.exp(p / tau) + sum(math.exp(n / tau) for n in (0.1, 0.2))
        return -math.log(math.exp(p / tau) / z)

    cosine = build(temperature=tau, margin=-0.5, margin_type='cosine')
    assert cosine.loss_per_positive(pos, neg).item() == pytest.approx(
        ce(0.6 + 0.5), rel=1e-6)
    arc = build(temperature=tau, margin=0.3, margin_type='arc')
    assert arc.loss_per_positive(pos, neg).item() == pytest.approx(
        ce(math.cos(math.acos(0.6) + 0.3)), rel=1e-5)
    # A lenient margin lowers the loss, a strict one raises it.
    plain = build(temperature=tau).loss_per_positive(pos, neg)
    assert cosine.loss_per_positive(pos, neg) < plain
    assert arc.loss_per_positive(pos, neg) > plain


@pytest.mark.parametrize('m, cos, inside, expected', [
    # m < 0: cos(theta + m) while cos theta < cos m, else cos theta + m sin m
    (-0.5, 0.5, True, math.cos(math.acos(0.5) - 0.5)),
    (-0.5, 0.95, False, 0.95 + (-0.5) * math.sin(-0.5)),
    # m > 0: cos(theta + m) while cos theta > cos(pi - m),
    # else cos theta - m sin m
    (0.5, 0.3, True, math.cos(math.acos(0.3) + 0.5)),
    (0.5, -0.95, False, -0.95 - 0.5 * math.sin(0.5)),
])
def test_arc_margin_on_both_sides_of_the_switch(m, cos, inside, expected):
    # The case is on the side of the switch it claims to be.
    if m < 0:
        assert (cos < math.cos(m)) == inside
    else:
        assert (cos > math.cos(math.pi - m)) == inside
    head = build(margin=m, margin_type='arc')
    got = head.apply_margin(torch.tensor([cos], dtype=torch.float64))
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_loss_weight_and_gradient():
    logits = torch.randn(3, 4, requires_grad=True)
    target = torch.softmax(torch.randn(3, 4), 1)
    loss = build(loss_weight=2.0).loss(logits, target)
    half = build().loss(logits, target)
    torch.testing.assert_close(loss, 2 * half)
    loss.backward()
    # d/dlogits of soft CE = (softmax - target) / tau / M, times weight.
    expected = 2 * (torch.softmax(logits / 0.1, 1) - target) / 0.1 / 3
    torch.testing.assert_close(logits.grad, expected.detach())


@pytest.mark.parametrize('kwargs, name', [
    (dict(temperature=0), 'temperature'),
    (dict(temperature=-0.1), '-0.1'),
    (dict(margin_type='angular'), "'angular'"),
    (dict(margin=float('inf')), 'inf'),
])
def test_invalid_settings_name_the_value(kwargs, name):
    with pytest.raises(ValueError) as err:
        build(**kwargs)
    assert name in str(err.value)


def test_shape_errors():
    head = SoftTargetContrastiveHead()
    with pytest.raises(ValueError, match='soft target'):
        head.loss(torch.randn(2, 3), torch.rand(2, 4))
    with pytest.raises(ValueError, match='neg must be'):
        head.loss_per_positive(torch.randn(2, 1), torch.randn(3, 4))
