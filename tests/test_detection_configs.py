"""The mmdet transfer configs: the detector builds with mmdet's registry,
the backbone (res2-res4) and the RoI head's res5 load every weight of one
pre-trained backbone, the extra norm after res5 starts as the identity, and
the detector takes a training step."""
import copy
import glob
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope

from bsim_plugin.utils.transfer import apply_pretrained_prefixes
from conftest import CONFIG_DIR, ROOT

# The ResNet-50 transfer configs (the Fashion-MNIST smoke configs, grey
# ResNet-18, are trained in test_detection_smoke.py).
DET_CONFIGS = sorted(
    p for p in glob.glob(osp.join(CONFIG_DIR, 'benchmarks', 'mmdetection',
                                  '**', '*.py'), recursive=True)
    if osp.join('mmdetection', 'fashion') not in p)
# Every shipped transfer config, the smoke ones included.
ALL_DET_CONFIGS = sorted(
    glob.glob(osp.join(CONFIG_DIR, 'benchmarks', 'mmdetection', '**',
                       '*.py'), recursive=True))


@pytest.fixture(scope='module')
def resnet50_backbone(tmp_path_factory):
    """An exported ResNet-50 backbone (random weights, BN statistics
    perturbed so that loading them is visible)."""
    from mmpretrain.models.backbones import ResNet
    torch.manual_seed(0)
    backbone = ResNet(depth=50)
    state = backbone.state_dict()
    for key, value in state.items():
        if value.is_floating_point():
            value.add_(torch.rand_like(value) * 0.1)
    path = str(tmp_path_factory.mktemp('r50') / 'backbone.pth')
    torch.save(dict(state_dict=state), path)
    return path, state


def test_detection_configs_are_shipped():
    names = [osp.basename(p) for p in DET_CONFIGS]
    assert 'faster-rcnn_r50-c4_ms-24k_voc0712.py' in names


@pytest.mark.parametrize(
    'path', DET_CONFIGS,
    ids=[osp.relpath(p, CONFIG_DIR) for p in DET_CONFIGS])
def test_detector_loads_the_whole_backbone_and_trains(path,
                                                      resnet50_backbone):
    from mmdet.registry import MODELS as DET_MODELS
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData
    from mmengine.optim import OptimWrapper

    ckpt, state = resnet50_backbone
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmdet'
    assert 'bsim_plugin' in cfg.custom_imports['imports']
    import bsim_plugin  # noqa: F401
    init_default_scope('mmdet')
    cfg.model.backbone.init_cfg.checkpoint = ckpt
    shared = cfg.model.roi_head.get('shared_head')
    if shared is not None:
        shared.init_cfg.checkpoint = ckpt
    # Few RoIs: a C4 head runs res5 on every sampled RoI (512 by default).
    cfg.model.train_cfg.rcnn.sampler.num = 8
    cfg.model.train_cfg.rpn_proposal.max_per_img = 16
    torch.manual_seed(0)
    model = revert_sync_batchnorm(DET_MODELS.build(cfg.model))
    model.init_weights()
    # Every backbone weight went somewhere, and nowhere did a random one
    # remain: res2-res4 in the backbone, res5 in the RoI head.
    loaded = {}
    for key, value in model.backbone.state_dict().items():
        loaded[key] = value
    if shared is not None:
        head = model.roi_head.shared_head
        for key, value in head.state_dict().items():
            if key.startswith('norm.'):
                continue
            loaded[key] = value
        if hasattr(head, 'norm'):  # the extra norm starts as the identity
            assert torch.equal(head.norm.weight, torch.ones_like(
                head.norm.weight))
            assert torch.equal(head.norm.bias, torch.zeros_like(
                head.norm.bias))
    assert loaded.keys() == state.keys()
    for key, value in state.items():
        assert torch.equal(loaded[key], value), key
    # Not caffe-style: a self-supervised backbone is pytorch-style.
    assert model.backbone.style == 'pytorch'
    assert model.data_preprocessor._channel_conversion  # BGR -> RGB

    model.train()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.001))
    samples = []
    for _ in range(2):
        sample = DetDataSample(metainfo=dict(
            img_shape=(128, 128), ori_shape=(128, 128), pad_shape=(128, 128),
            scale_factor=(1.0, 1.0), batch_input_shape=(128, 128)))
        mask = np.zeros((1, 128, 128), dtype=np.uint8)
        mask[0, 20:90, 10:70] = 1
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([[10., 20., 70., 90.]]),
            labels=torch.tensor([3]),
            masks=BitmapMasks(mask, 128, 128))
        samples.append(sample)
    data = dict(
        inputs=[torch.randint(0, 255, (3, 128, 128), dtype=torch.uint8)
                for _ in range(2)],
        data_samples=samples)
    log = model.train_step(data, optim)
    assert log and all(torch.isfinite(v) for v in log.values())


def test_launcher_sets_every_backbone_path(tmp_path, resnet50_backbone):
    """tools/benchmarks/mmdetection/train.py points every StrictPretrained
    at the backbone (C4: backbone and res5) and hands the config to mmdet's
    own train script."""
    import subprocess
    import sys

    from conftest import ROOT
    ckpt, _ = resnet50_backbone
    for name, expected in (('voc0712/faster-rcnn_r50-c4_ms-24k_voc0712.py',
                            2), ('coco/mask-rcnn_r50-fpn_1x_coco.py', 1)):
        work = tmp_path / name.split('/')[0]
        proc = subprocess.run(
            [sys.executable, 'tools/benchmarks/mmdetection/train.py',
             osp.join(CONFIG_DIR, 'benchmarks', 'mmdetection', name), ckpt,
             '--work-dir', str(work), '--dry-run', '--amp'],
            cwd=ROOT, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert 'mmdet/.mim/tools/train.py' in proc.stdout
        assert '--amp' in proc.stdout  # other options reach mmdet
        cfg = Config.fromfile(str(work / osp.basename(name)))
        text = cfg.pretty_text
        assert text.count(ckpt) == expected
        assert "checkpoint='backbone.pth'" not in text


@pytest.fixture(scope='module')
def grey_resnet18_backbone(tmp_path_factory):
    """An exported grey ResNet-18 (the CPU recipe's), weights perturbed."""
    from mmpretrain.models.backbones import ResNet
    torch.manual_seed(1)
    state = ResNet(depth=18, in_channels=1).state_dict()
    for value in state.values():
        if value.is_floating_point():
            value.add_(torch.rand_like(value) * 0.1)
    path = str(tmp_path_factory.mktemp('r18') / 'backbone.pth')
    torch.save(dict(state_dict=state), path)
    return path, state


@pytest.mark.parametrize(
    'path', ALL_DET_CONFIGS,
    ids=[osp.relpath(p, CONFIG_DIR) for p in ALL_DET_CONFIGS])
def test_pretrained_prefixes_load_strictly_into_every_detector(
        path, resnet50_backbone, grey_resnet18_backbone):
    """Each config's pretrained_prefixes option is what its initialisers
    load: the listed prefixes land, every tensor of them, in the backbone
    and the RoI head's res5; a part with [] keeps mmdet's init. The
    ResNet-50 configs import res5, the 28-px smoke configs do not."""
    from mmdet.registry import MODELS as DET_MODELS
    cfg = Config.fromfile(path)
    option = cfg.pretrained_prefixes
    # The config file's initialisers are the ones the option writes.
    as_shipped = copy.deepcopy(cfg.model.to_dict())
    apply_pretrained_prefixes(cfg)
    assert cfg.model.to_dict() == as_shipped
    depth = cfg.model.backbone.depth
    ckpt, state = (resnet50_backbone if depth == 50 else
                   grey_resnet18_backbone)
    apply_pretrained_prefixes(cfg, ckpt)
    import bsim_plugin  # noqa: F401
    init_default_scope('mmdet')
    torch.manual_seed(0)
    model = revert_sync_batchnorm(DET_MODELS.build(cfg.model))
    model.init_weights()
    parts = dict(backbone=model.backbone)
    if cfg.model.roi_head.get('shared_head') is not None:
        parts['roi_head'] = model.roi_head.shared_head
    assert set(option) == set(parts)
    loaded = set()
    for part, module in parts.items():
        prefixes = tuple(option[part])
        own = {k: v for k, v in module.state_dict().items()
               if not k.startswith('norm.')}  # the extra norm is new
        if prefixes:
            # Strict both ways: every weight of the part is under the
            # prefixes and equals the checkpoint's.
            assert all(k.startswith(prefixes) for k in own), part
            assert own.keys() == {k for k in state if k.startswith(prefixes)}
            for key, value in own.items():
                assert torch.equal(value, state[key]), key
            loaded |= own.keys()
        else:
            # mmdet's init: none of the checkpoint's weights.
            for key, value in own.items():
                if key.endswith('conv1.weight'):
                    assert not torch.equal(value, state[key]), key
            assert all(
                torch.equal(v, torch.ones_like(v)) for k, v in own.items()
                if k.endswith(('bn2.weight', 'bn3.weight')))
    layer4 = {k for k in state if k.startswith('layer4.')}
    if depth == 50:  # 224-px pre-training: res5 too, every tensor
        assert loaded == state.keys()
    else:  # 28-px pre-training: res2-res4 only
        assert loaded == state.keys() - layer4


def test_pretrained_prefixes_option_overrides_and_errors(
        tmp_path, resnet50_backbone):
    voc = osp.join(CONFIG_DIR, 'benchmarks', 'mmdetection', 'voc0712',
                   'faster-rcnn_r50-c4_ms-24k_voc0712.py')
    smoke = osp.join(CONFIG_DIR, 'benchmarks', 'mmdetection', 'fashion',
                     'faster-rcnn_r18-c4_300it_fashion-voc.py')
    fpn = osp.join(CONFIG_DIR, 'benchmarks', 'mmdetection', 'coco',
                   'mask-rcnn_r50-fpn_1x_coco.py')
    cfg = Config.fromfile(smoke)
    cfg.pretrained_prefixes.roi_head = ['layer4.']
    written = apply_pretrained_prefixes(cfg, 'b.pth')
    assert cfg.model.roi_head.shared_head.init_cfg == dict(
        type='StrictPretrained', checkpoint='b.pth', prefixes=['layer4.'],
        new=['norm.'])
    assert written['backbone']['checkpoint'] == 'b.pth'
    for bad, match in ((dict(neck=['x.']), 'unknown part'),
                       (dict(backbone='layer1.'), 'list of key prefixes'),
                       (dict(backbone=['layer1']), 'list of key prefixes')):
        cfg = Config.fromfile(voc)
        cfg.pretrained_prefixes = bad
        with pytest.raises(ValueError, match=match):
            apply_pretrained_prefixes(cfg)
    cfg = Config.fromfile(fpn)
    cfg.pretrained_prefixes.roi_head = ['layer4.']
    with pytest.raises(ValueError, match='no model.roi_head.shared_head'):
        apply_pretrained_prefixes(cfg)

    # The launcher applies the option after --cfg-options.
    sys.path.insert(0, osp.join(ROOT, 'tools', 'benchmarks', 'mmdetection'))
    import train as launcher
    ckpt, _ = resnet50_backbone
    out = launcher.main([voc, ckpt, '--work-dir', str(tmp_path), '--dry-run',
                         '--cfg-options', 'pretrained_prefixes.roi_head=[]'])
    dumped = Config.fromfile(out)
    assert dumped.model.roi_head.shared_head.init_cfg is None
    assert dumped.model.backbone.init_cfg.checkpoint == osp.abspath(ckpt)
    with pytest.raises(SystemExit):
        launcher.main([voc, ckpt, '--work-dir', str(tmp_path), '--dry-run',
                       '--cfg-options', 'pretrained_prefixes.roi_head=[]',
                       'pretrained_prefixes.backbone=[]'])
