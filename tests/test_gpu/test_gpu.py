"""GPU checks (marker ``gpu``; skipped without a CUDA GPU): mmcv's CUDA ops
against their CPU results, every algorithm's loss on the GPU against the
CPU loss on the same batch, a few training steps with and without AMP, and
a Faster R-CNN from a shipped detection config on the GPU.

    bash tools/check_gpu.sh        # set-up, then these tests
"""
import copy
import os.path as osp
import sys
import uuid

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from bsim_plugin.models.utils import attach_mix_info, mixup, pair_indices
from conftest import CONFIG_DIR, ROOT
from helpers import tiny_base_cfg, tiny_model_cfg

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(),
                       reason='needs a CUDA GPU'),
]
KINDS = ('simclr', 'moco', 'byol', 'simsiam', 'sane')


def test_mmcv_was_built_with_cuda_ops():
    from mmcv.ops import get_compiling_cuda_version
    assert get_compiling_cuda_version() != 'not available'


def test_mmcv_nms_and_roi_align_on_cuda_equal_cpu():
    from mmcv.ops import RoIAlign, nms
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(200, 2, generator=g) * 100
    wh = torch.rand(200, 2, generator=g) * 40 + 5
    boxes = torch.cat([xy, xy + wh], dim=1)
    scores = torch.rand(200, generator=g)
    _, keep_cpu = nms(boxes, scores, 0.5)
    _, keep_gpu = nms(boxes.cuda(), scores.cuda(), 0.5)
    assert torch.equal(keep_cpu, keep_gpu.cpu())
    feats = torch.randn(2, 8, 32, 32, generator=g)
    rois = torch.cat([torch.randint(0, 2, (20, 1), generator=g).float(),
                      boxes[:20] / 4], dim=1)
    align = RoIAlign((7, 7), spatial_scale=1.0, sampling_ratio=2)
    torch.testing.assert_close(align(feats.cuda(), rois.cuda()).cpu(),
                               align(feats, rois), rtol=1e-4, atol=1e-5)


def build(kind):
    MessageHub.get_current_instance().update_info('max_iters', 10)
    torch.manual_seed(0)
    # GroupNorm: the loss does not depend on MoCo's device-side shuffle.
    cfg = (tiny_model_cfg(norm='GN') if kind == 'simclr' else
           tiny_base_cfg(kind, norm='GN'))
    model = MODELS.build(cfg)
    model.train_progress = (0, 10)  # read by SANE only
    return model


def batch(kind, device, n=8):
    g = torch.Generator().manual_seed(1)
    v1 = torch.randn(n, 1, 16, 16, generator=g)
    v2 = torch.randn(n, 1, 16, 16, generator=g)
    lam = torch.rand(n, generator=g)
    partner = pair_indices(n, 'reverse')
    source = v2 if kind == 'sane' else v1
    inputs = [v.to(device) for v in (v1, v2, mixup(v1, source, lam,
                                                   partner))]
    samples = [DataSample() for _ in range(n)]
    attach_mix_info(samples, lam.to(device), partner.to(device))
    return inputs, samples


@pytest.mark.parametrize('kind', KINDS)
def test_loss_on_gpu_equals_cpu(kind):
    model = build(kind)
    if kind in ('moco', 'sane'):
        model.queue_len = 8
        model.queue = model.queue[:, :8].contiguous()
    gpu = copy.deepcopy(model).cuda()
    cpu_losses = model.loss(*batch(kind, 'cpu'))
    gpu_losses = gpu.loss(*batch(kind, 'cuda'))
    assert cpu_losses.keys() == gpu_losses.keys()
    for key in cpu_losses:
        torch.testing.assert_close(gpu_losses[key].cpu(), cpu_losses[key],
                                   rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize('amp', [False, True])
@pytest.mark.parametrize('kind', KINDS)
def test_trains_a_few_steps_on_gpu(kind, amp):
    model = build(kind).cuda()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    optim = (AmpOptimWrapper(optimizer=optimizer) if amp else
             OptimWrapper(optimizer))
    before = model.backbone.conv1.weight.detach().clone()
    for step in range(3):
        g = torch.Generator().manual_seed(step)
        data = dict(
            inputs=[torch.randint(0, 255, (8, 1, 16, 16), generator=g,
                                  dtype=torch.uint8) for _ in range(2)],
            data_samples=[DataSample() for _ in range(8)])
        log = model.train_step(data, optim)
        assert all(torch.isfinite(v) for v in log.values()), log
    assert not torch.equal(before, model.backbone.conv1.weight.detach())


def test_faster_rcnn_smoke_config_trains_on_gpu(tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner
    sys.path.insert(0, osp.join(ROOT, 'tools', 'benchmarks', 'mmdetection'))
    import make_fashion_detection
    rng = np.random.RandomState(0)
    items = rng.randint(0, 255, size=(20, 28, 28)).astype(np.uint8)
    labels = np.arange(20) % 10
    root = str(tmp_path / 'det') + '/'
    make_fashion_detection.make(root, train=8, test=4, splits=dict(
        trainval=(items, labels), test=(items, labels)))
    cfg = Config.fromfile(osp.join(
        CONFIG_DIR, 'benchmarks', 'mmdetection', 'fashion',
        'faster-rcnn_r18-c4_300it_fashion-voc.py'))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.experiment_name = f'gpu_det_{uuid.uuid4().hex[:8]}'
    cfg.model.backbone.init_cfg = None
    cfg.model.roi_head.shared_head.init_cfg = None
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = root
        cfg[key].num_workers = 0
        cfg[key].persistent_workers = False
    cfg.train_cfg.max_iters = 3
    cfg.train_cfg.val_interval = 1000
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert next(runner.model.parameters()).is_cuda
    assert runner.iter == 3
    assert 'pascal_voc/mAP' in runner.val_loop.run()
