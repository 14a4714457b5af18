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


@pytest.mark.parametrize('form', ['pretraining', 'exported'])
def test_strict_pretrained_loads_every_weight(tmp_path, form):
    """init_cfg=dict(type='StrictPretrained') takes either form, in an
    mmpretrain and an mmdet backbone, and loads every tensor."""
    from mmdet.registry import MODELS as MMDET_MODELS
    cfg = tiny_base_cfg('moco')
    cfg['backbone'] = dict(type='ResNet', depth=18)
    cfg['neck']['in_channels'] = 512
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    src = tmp_path / 'moco.pth'
    save_pretraining_checkpoint(model, src)
    ckpt = str(src) if form == 'pretraining' else str(
        tmp_path / 'backbone.pth')
    if form == 'exported':
        convert(tmp_path, src)
    init = dict(type='StrictPretrained', checkpoint=ckpt)
    for registry, typ in ((MODELS, 'ResNet'), (MMDET_MODELS, 'ResNet')):
        backbone = registry.build(dict(type=typ, depth=18, init_cfg=init))
        backbone.init_weights()
        for key, value in model.backbone.state_dict().items():
            assert torch.equal(backbone.state_dict()[key], value), key


def test_strict_pretrained_refuses_a_backbone_that_does_not_fit(tmp_path):
    torch.manual_seed(0)
    src = tmp_path / 'tiny.pth'  # a 4-wide CIFAR ResNet-18
    save_pretraining_checkpoint(MODELS.build(tiny_base_cfg('moco')), src)
    backbone = MODELS.build(
        dict(type='ResNet', depth=18,
             init_cfg=dict(type='StrictPretrained', checkpoint=str(src))))
    with pytest.raises(ValueError, match='does not fit ResNet; .*shapes'):
        backbone.init_weights()
    wrong_depth = MODELS.build(
        dict(type='ResNet_CIFAR', depth=34, in_channels=1, base_channels=4,
             init_cfg=dict(type='StrictPretrained', checkpoint=str(src))))
    with pytest.raises(ValueError, match='not in the checkpoint: layer'):
        wrong_depth.init_weights()


def test_fashion_linear_config_trains_on_the_loaded_frozen_backbone(
        tmp_path, tiny_fashion_root):
    """The shipped linear-evaluation config, shrunk to tiny data, loads a
    pre-training checkpoint strictly, keeps the backbone frozen, trains the
    linear head and reports top-1."""
    import uuid

    from mmengine.config import Config
    from mmengine.runner import Runner

    from conftest import CONFIG_DIR
    cfg_pre = tiny_base_cfg('moco')
    cfg_pre['backbone'] = dict(type='ResNet', depth=18, in_channels=1)
    cfg_pre['neck']['in_channels'] = 512
    torch.manual_seed(0)
    pretrained = MODELS.build(cfg_pre)
    src = tmp_path / 'moco.pth'
    save_pretraining_checkpoint(pretrained, src)

    cfg = Config.fromfile(
        osp.join(CONFIG_DIR, 'benchmarks', 'classification',
                 'resnet18_linear-coslr-20e_fashion-mnist.py'))
    cfg.model.backbone.init_cfg.checkpoint = str(src)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.experiment_name = f'linear_{uuid.uuid4().hex[:8]}'
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.batch_size = 8
        loader.dataset.data_root = tiny_fashion_root
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_interval = 1
    cfg.param_scheduler[0].end = cfg.param_scheduler[0].T_max = 1
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.val_loop.run()
    assert 0 <= metrics['accuracy/top1'] <= 100
    trained = runner.model.backbone.state_dict()
    for key, value in pretrained.backbone.state_dict().items():
        assert torch.equal(trained[key], value), key  # loaded and frozen
