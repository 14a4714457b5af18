"""SinglePixelConv2d: the same function and gradients as nn.Conv2d wherever
the output is one pixel, nn.Conv2d itself elsewhere, and a drop-in
``conv_cfg`` for mmpretrain's and mmdet's ResNets."""
import pytest
import torch
import torch.nn as nn
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

from bsim_plugin.models.utils import SinglePixelConv2d


_PARENT = nn.Conv2d._conv_forward


@pytest.fixture
def conv_calls(monkeypatch):
    """The modules whose nn.Conv2d convolution ran, in order."""
    calls = []

    def spy(self, *args):
        calls.append(self)
        return _PARENT(self, *args)

    monkeypatch.setattr(nn.Conv2d, '_conv_forward', spy)
    return calls


def _both(size, **conv):
    torch.manual_seed(0)
    fast = SinglePixelConv2d(6, 5, **conv)
    plain = nn.Conv2d(6, 5, **conv)
    plain.load_state_dict(fast.state_dict())
    x = torch.randn(4, 6, *size, dtype=torch.float64)
    return fast.double(), plain.double(), x


# (input size, conv args): outputs of one pixel, each tap set by hand.
ONE_PIXEL = [
    ((1, 1), dict(kernel_size=3, padding=1)),  # only the centre tap
    ((2, 2), dict(kernel_size=3, padding=1, stride=2)),  # taps 1:3
    ((2, 2), dict(kernel_size=1, stride=2)),  # pixel (0, 0) only
    ((3, 3), dict(kernel_size=3)),  # the whole window
    ((1, 2), dict(kernel_size=(1, 3), padding=(0, 1), stride=(1, 2))),
    ((1, 1), dict(kernel_size=3, padding=1, bias=False)),
]


@pytest.mark.parametrize('size,conv', ONE_PIXEL)
def test_one_pixel_outputs_and_gradients_equal_conv2d(size, conv,
                                                      conv_calls):
    fast, plain, x = _both(size, **conv)
    calls = conv_calls
    parent = _PARENT
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_a, out_b = fast(xa), plain(xb)
    assert calls == [plain]  # the matrix product, not the convolution
    assert out_a.shape == out_b.shape and out_a.shape[-2:] == (1, 1)
    torch.testing.assert_close(out_a, out_b)
    grad = torch.randn_like(out_a)
    out_a.backward(grad)
    out_b.backward(grad)
    torch.testing.assert_close(xa.grad, xb.grad)
    torch.testing.assert_close(fast.weight.grad, plain.weight.grad)
    if conv.get('bias', True):
        torch.testing.assert_close(fast.bias.grad, plain.bias.grad)


def test_centre_tap_alone_gets_a_gradient_on_a_1x1_map():
    # The hand computation: a 3x3 convolution with padding 1 on a 1x1 map
    # is x @ W[:, :, 1, 1].T + b; every other tap meets zeros.
    fast, _, x = _both((1, 1), kernel_size=3, padding=1)
    out = fast(x)
    w = fast.weight.detach()
    torch.testing.assert_close(
        out[:, :, 0, 0], x[:, :, 0, 0] @ w[:, :, 1, 1].T + fast.bias.detach())
    out.sum().backward()
    grad = fast.weight.grad
    assert grad[:, :, 1, 1].abs().sum() > 0
    mask = torch.ones(3, 3, dtype=torch.bool)
    mask[1, 1] = False
    assert torch.count_nonzero(grad[:, :, mask]) == 0


@pytest.mark.parametrize('size,conv', [
    ((4, 4), dict(kernel_size=3, padding=1)),  # a 4x4 output
    ((1, 1), dict(kernel_size=3, padding=1, groups=2)),
    ((1, 1), dict(kernel_size=3, padding=2, dilation=2)),
    ((2, 2), dict(kernel_size=3, padding=1, stride=2,
                  padding_mode='reflect')),
])
def test_other_cases_are_conv2d_itself(size, conv, conv_calls):
    if 'groups' in conv:
        fast, plain = SinglePixelConv2d(6, 4, **conv), None
    else:
        fast, plain, _ = _both(size, **conv)
    calls = conv_calls
    parent = _PARENT
    x = torch.randn(2, 6, *size, dtype=fast.weight.dtype)
    out = fast(x)
    if plain is not None:
        torch.testing.assert_close(out, parent(plain, x, plain.weight,
                                               plain.bias))
    assert calls == [fast]


@pytest.mark.parametrize('scope', ['mmpretrain', 'mmdet'])
def test_resnet_with_it_is_the_plain_resnet(scope):
    if scope == 'mmdet':
        from mmdet.registry import MODELS as registry
        import mmdet.models  # noqa: F401 (registers mmdet's ResNet)
    else:
        registry = MODELS
    cfg = dict(type='ResNet', depth=18, in_channels=1,
               conv_cfg=dict(type='SinglePixelConv2d'))
    with DefaultScope.overwrite_default_scope(scope):
        model = registry.build(cfg)
        plain = registry.build(dict(cfg, conv_cfg=None))
    assert type(model).__module__.startswith(scope)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(isinstance(m, SinglePixelConv2d) for m in convs)
    # Same keys both ways: an exported backbone loads into a plain ResNet.
    plain.load_state_dict(model.state_dict(), strict=True)
    model.double().train()
    plain.double().train()
    # 28 px: the last stage runs on 1x1 maps (the CPU recipe).
    x = torch.randn(4, 1, 28, 28, dtype=torch.float64)
    out_a, out_b = model(x)[-1], plain(x)[-1]
    assert out_a.shape[-2:] == (1, 1)
    torch.testing.assert_close(out_a, out_b)
    out_a.square().sum().backward()
    out_b.square().sum().backward()
    for (name, a), b in zip(model.named_parameters(), plain.parameters()):
        torch.testing.assert_close(a.grad, b.grad, msg=name)
