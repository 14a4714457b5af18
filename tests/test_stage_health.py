"""The stage-health report: a stage whose blocks' last BN is near zero (a
res5 pre-trained on 1x1 maps) or whose weights never moved is flagged, in
the converter's output and where StrictPretrained loads; a trained stage
is not."""
import os.path as osp
import sys
import uuid

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MMLogger
from mmpretrain.models.backbones import ResNet, ResNet_CIFAR
from mmpretrain.registry import MODELS

from bsim_plugin.utils.stage_health import (format_stage_health,
                                            health_warnings, stage_health)
from conftest import ROOT

sys.path.insert(0, osp.join(ROOT, 'tools', 'model_converters'))
import extract_backbone_weights as converter  # noqa: E402

SWITCHED_OFF = ('layer4: last-BN weights about 0.03; this stage was barely '
                'trained, the pre-training images may be too small for it')


@pytest.fixture(scope='module')
def trained_backbone():
    """A small ResNet-18 trained for a few SGD steps on a 3-class task, with
    the last BN of each block starting at 1 (every stage trains)."""
    torch.manual_seed(0)
    net = ResNet_CIFAR(depth=18, in_channels=1, base_channels=4,
                       zero_init_residual=False)
    net.init_weights()
    head = torch.nn.Linear(32, 3)
    opt = torch.optim.SGD(
        list(net.parameters()) + list(head.parameters()), lr=0.2,
        momentum=0.9)
    x = torch.randn(64, 1, 16, 16)
    y = torch.arange(64) % 3
    x[y == 1, :, :8] += 1.5
    x[y == 2, :, :, :8] -= 1.5
    for _ in range(20):
        loss = F.cross_entropy(head(net(x)[-1].mean((2, 3))), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def switch_off_layer4(state):
    """The trained weights with layer4's blocks' last BN weights at 0.03."""
    state = {k: v.clone() for k, v in state.items()}
    for key in ('layer4.0.bn2.weight', 'layer4.1.bn2.weight'):
        state[key].fill_(0.03)
    return state


def test_fresh_init_reference_and_switched_off_stages():
    """Against mmpretrain's own init (seeded): conv scale 1, norms not
    moved, last BN at 0 (zero_init_residual): every stage is flagged, and
    a Bottleneck's last norm (bn3) is the one read."""
    torch.manual_seed(0)
    for net in (ResNet(depth=18), ResNet(depth=50)):
        net.init_weights()
        rows = stage_health(net.state_dict())
        assert [r.stage for r in rows] == [
            'stem', 'layer1', 'layer2', 'layer3', 'layer4']
        for row in rows:
            assert row.conv_scale == pytest.approx(1.0, abs=0.03), row
            assert row.bn_moved == 0
            assert row.warning
        assert all(r.last_bn == 0 for r in rows[1:])
        assert 'this stage looks untrained' in rows[0].warning
    # Not zero-initialised: the last norms start at 1, and the fresh stages
    # are flagged as not moved instead.
    net = ResNet(depth=50, zero_init_residual=False)
    net.init_weights()
    rows = stage_health(net.state_dict())
    assert all(r.last_bn == 1 for r in rows[1:])
    assert all('looks untrained' in r.warning for r in rows)
    # Not a ResNet: no rows, and the report says so.
    assert stage_health({'blocks.0.weight': torch.ones(3)}) == []
    assert 'not a ResNet-like backbone' in format_stage_health([])


def test_trained_stages_pass_and_a_switched_off_one_is_named(
        trained_backbone):
    rows = stage_health(trained_backbone)
    assert health_warnings(rows) == [], format_stage_health(rows)
    assert all(r.last_bn > 0.5 and r.bn_moved > 0.01 for r in rows[1:])
    rows = stage_health(switch_off_layer4(trained_backbone))
    warnings = health_warnings(rows)
    assert len(warnings) == 1 and warnings[0].startswith(SWITCHED_OFF)
    assert rows[-1].stage == 'layer4' and rows[-1].last_bn == pytest.approx(
        0.03)


def test_converter_prints_the_report(trained_backbone, tmp_path, capsys):
    for name, state in (('trained', trained_backbone),
                        ('off', switch_off_layer4(trained_backbone))):
        src = tmp_path / f'{name}.pth'
        torch.save(dict(meta=dict(epoch=2), state_dict={
            **{f'backbone.{k}': v for k, v in state.items()},
            'neck.fc.weight': torch.zeros(2, 2)}), src)
        converter.main([str(src), str(tmp_path / f'{name}_backbone.pth')])
        out = capsys.readouterr().out
        assert 'stage health' in out and 'last-BN |w|' in out
        lines = [line for line in out.splitlines()
                 if line.startswith('layer4 ')]
        assert len(lines) == 1
        if name == 'trained':
            assert 'WARNING' not in out and lines[0].endswith('ok')
        else:
            assert f'WARNING {SWITCHED_OFF}' in out
            assert lines[0].endswith('WARNING')


def test_strict_pretrained_logs_the_report(trained_backbone, tmp_path):
    """The warning reaches the log of whatever loads the weights (here an
    mmpretrain backbone built from its registry)."""
    path = str(tmp_path / 'backbone.pth')
    torch.save(dict(state_dict=switch_off_layer4(trained_backbone)), path)
    log_file = str(tmp_path / 'load.log')
    MMLogger.get_instance(f'health_{uuid.uuid4().hex[:8]}',
                          log_file=log_file)
    net = MODELS.build(
        dict(type='ResNet_CIFAR', depth=18, in_channels=1, base_channels=4,
             init_cfg=dict(type='StrictPretrained', checkpoint=path)))
    net.init_weights()
    assert torch.equal(net.state_dict()['layer4.1.bn2.weight'],
                       torch.full((32, ), 0.03))
    with open(log_file) as f:
        log = f.read()
    assert 'stage health' in log and 'layer4' in log
    assert f'{path}: {SWITCHED_OFF}' in log
    assert log.count(' - WARNING - ') == 1  # one warning, for layer4
