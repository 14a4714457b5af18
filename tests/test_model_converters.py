"""extract_backbone_weights.py: a pre-training checkpoint of any BSIM
algorithm -> backbone weights that mmpretrain's and mmdet's ResNet load
strictly; clear errors for everything else."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmdet.models.backbones import ResNet as MMDetResNet
from mmengine.logging import MessageHub
from mmpretrain.models.backbones import ResNet, ResNet_CIFAR
from mmpretrain.registry import MODELS

from conftest import ROOT
from helpers import tiny_base_cfg

sys.path.insert(0, osp.join(ROOT, 'tools', 'model_converters'))
import extract_backbone_weights as tool  # noqa: E402


def save_pretraining_checkpoint(model, path):
    # mmengine's layout: meta, state_dict, (optimizer, message_hub, ...)
    torch.save(dict(meta=dict(epoch=1), state_dict=model.state_dict(),
                    optimizer=dict(state={}, param_groups=[])), path)


def convert(tmp_path, src, *extra, name='backbone.pth'):
    out = str(tmp_path / name)
    tool.main([str(src), out, *extra])
    return torch.load(out, weights_only=True)


@pytest.mark.parametrize('kind', ['moco', 'byol', 'simsiam'])
def test_backbone_loads_strictly_and_equals_the_online_encoder(
        tmp_path, kind, capsys):
    MessageHub.get_current_instance().update_info('max_iters', 10)
    torch.manual_seed(0)
    model = MODELS.build(tiny_base_cfg(kind))
    src = tmp_path / 'epoch_1.pth'
    save_pretraining_checkpoint(model, src)
    out = convert(tmp_path, src)
    assert out['meta']['source'] == 'online'
    assert len(out['meta']['source_sha256']) == 64
    target = ResNet_CIFAR(depth=18, in_channels=1, base_channels=4)
    target.load_state_dict(out['state_dict'], strict=True)
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(target.state_dict()[key], value)
    printed = capsys.readouterr().out
    assert 'kept' in printed and 'dropped: ' in printed and 'neck' in printed
    if kind == 'moco':
        assert 'encoder_k' in printed and 'queue' in printed


def test_momentum_source_is_the_key_encoder(tmp_path):
    torch.manual_seed(0)
    model = MODELS.build(tiny_base_cfg('moco'))
    with torch.no_grad():  # make the two copies differ
        for p in model.backbone.parameters():
            p.add_(1.0)
    src = tmp_path / 'moco.pth'
    save_pretraining_checkpoint(model, src)
    out = convert(tmp_path, src, '--source', 'momentum')
    key_encoder = model.encoder_k.module[0].state_dict()
    assert out['state_dict'].keys() == key_encoder.keys()
    for key, value in key_encoder.items():
        assert torch.equal(out['state_dict'][key], value)


def test_imagenet_resnet_loads_into_mmdet_and_mmpretrain(tmp_path):
    cfg = tiny_base_cfg('byol')
    cfg['backbone'] = dict(type='ResNet', depth=18)
    cfg['neck']['in_channels'] = 512
    MessageHub.get_current_instance().update_info('max_iters', 10)
    src = tmp_path / 'byol.pth'
    save_pretraining_checkpoint(MODELS.build(cfg), src)
    state = convert(tmp_path, src)['state_dict']
    ResNet(depth=18).load_state_dict(state, strict=True)
    MMDetResNet(depth=18).load_state_dict(state, strict=True)


def error_of(tmp_path, src, capsys=None):
    with pytest.raises(SystemExit) as info:
        tool.main([str(src), str(tmp_path / 'out.pth')])
    return str(info.value.code)


def test_not_a_checkpoint(tmp_path):
    src = tmp_path / 'notes.pth'
    src.write_text('hello')
    assert 'is not a checkpoint torch can load safely' in error_of(
        tmp_path, src)
    torch.save([1, 2], tmp_path / 'list.pth')
    assert 'holds a list' in error_of(tmp_path, tmp_path / 'list.pth')


def test_no_backbone_names_the_modules(tmp_path):
    src = tmp_path / 'head.pth'
    torch.save(dict(state_dict={'head.fc.weight': torch.zeros(2)}), src)
    msg = error_of(tmp_path, src)
    assert 'no online backbone' in msg and "['head']" in msg


def test_already_converted(tmp_path):
    torch.manual_seed(0)
    src = tmp_path / 'simsiam.pth'
    save_pretraining_checkpoint(MODELS.build(tiny_base_cfg('simsiam')), src)
    convert(tmp_path, src, name='once.pth')
    assert 'already a backbone-only checkpoint' in error_of(
        tmp_path, tmp_path / 'once.pth')


class Evil:

    def __reduce__(self):
        return (print, ('ran code',))


def test_unsafe_pickle_is_refused_not_run(tmp_path):
    src = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={'x': Evil()}), src)
    assert 'not a checkpoint torch can load safely' in error_of(
        tmp_path, src)


def test_command_line(tmp_path):
    torch.manual_seed(0)
    src = tmp_path / 'moco.pth'
    save_pretraining_checkpoint(MODELS.build(tiny_base_cfg('moco')), src)
    proc = subprocess.run(
        [sys.executable, 'tools/model_converters/extract_backbone_weights.py',
         str(src), str(tmp_path / 'b.pth')],
        cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'wrote' in proc.stdout
    proc = subprocess.run(
        [sys.executable, 'tools/model_converters/extract_backbone_weights.py',
         str(tmp_path / 'missing.pth'), str(tmp_path / 'c.pth')],
        cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and 'checkpoint not found' in proc.stderr
