"""Detection transfer on CPU with mmdet's own datasets and evaluators: a
tiny detection set written by tools/benchmarks/mmdetection/
make_fashion_detection.py (real JPEG files, real VOC XML and COCO JSON
annotations), a grey ResNet-18 backbone loaded strictly into the Faster
R-CNN C4 smoke configs, a few training iterations and one evaluation."""
import os.path as osp
import sys
import uuid

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from conftest import CONFIG_DIR, ROOT

sys.path.insert(0, osp.join(ROOT, 'tools', 'benchmarks', 'mmdetection'))
import make_fashion_detection  # noqa: E402

SMOKE = osp.join(CONFIG_DIR, 'benchmarks', 'mmdetection', 'fashion',
                 'faster-rcnn_r18-c4_300it_fashion-{}.py')


@pytest.fixture(scope='module')
def detection_set(tmp_path_factory):
    rng = np.random.RandomState(0)

    def items(n):
        imgs = rng.randint(0, 20, size=(n, 28, 28)).astype(np.uint8)
        labels = np.arange(n) % 10
        for img, label in zip(imgs, labels):
            img[4:24, 2 + 2 * label:8 + 2 * label] = 220
        return imgs, labels

    out = str(tmp_path_factory.mktemp('fashion_det'))
    counts = make_fashion_detection.make(
        out, train=6, test=4, size=112, max_objects=2, seed=0,
        splits=dict(trainval=items(20), test=items(10)))
    return out + '/', counts


@pytest.fixture(scope='module')
def grey_resnet18(tmp_path_factory):
    from mmpretrain.models.backbones import ResNet
    torch.manual_seed(0)
    state = ResNet(depth=18, in_channels=1).state_dict()
    for value in state.values():
        if value.is_floating_point():
            value.add_(torch.rand_like(value) * 0.1)
    path = str(tmp_path_factory.mktemp('r18') / 'backbone.pth')
    torch.save(dict(state_dict=state), path)
    return path, state


def test_generator_writes_both_formats(detection_set):
    import json
    import xml.etree.ElementTree as ET
    root, counts = detection_set
    assert counts['trainval'][0] == 6 and counts['test'][0] == 4
    with open(osp.join(root, 'annotations', 'instances_test.json')) as f:
        coco = json.load(f)
    assert len(coco['images']) == 4
    assert len(coco['annotations']) == counts['test'][1] > 0
    # The same boxes in both formats (VOC is 1-based and inclusive).
    ann = coco['annotations'][0]
    img = coco['images'][[i['id'] for i in coco['images']].index(
        ann['image_id'])]
    xml = ET.parse(osp.join(root, 'voc', 'Annotations',
                            img['file_name'].replace('.jpg', '.xml')))
    boxes = [[int(o.find('bndbox').find(k).text)
              for k in ('xmin', 'ymin', 'xmax', 'ymax')]
             for o in xml.findall('object')]
    x, y, w, h = ann['bbox']
    assert [x + 1, y + 1, x + w, y + h] in boxes
    assert osp.isfile(osp.join(root, 'voc', 'JPEGImages',
                               img['file_name']))


@pytest.mark.parametrize('fmt, metric', [('voc', 'pascal_voc/mAP'),
                                         ('coco', 'coco/bbox_mAP')])
def test_faster_rcnn_c4_trains_and_evaluates(fmt, metric, tmp_path,
                                             detection_set, grey_resnet18):
    root, _ = detection_set
    ckpt, state = grey_resnet18
    cfg = Config.fromfile(SMOKE.format(fmt))
    cfg.work_dir = str(tmp_path)
    cfg.experiment_name = f'det_{uuid.uuid4().hex[:8]}'
    cfg.model.backbone.init_cfg.checkpoint = ckpt
    cfg.model.roi_head.shared_head.init_cfg.checkpoint = ckpt
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[key]
        loader.dataset.data_root = root
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.batch_size = 2
    if fmt == 'coco':
        ann = osp.join(root, 'annotations', 'instances_test.json')
        cfg.val_evaluator.ann_file = cfg.test_evaluator.ann_file = ann
    cfg.train_cfg.max_iters = 3
    cfg.train_cfg.val_interval = 1000
    cfg.default_hooks.logger.interval = 1
    runner = Runner.from_cfg(cfg)
    # The backbone (res2-res4) and the RoI head (res5) hold every weight.
    runner.model.init_weights()
    backbone = runner.model.backbone.state_dict()
    res5 = runner.model.roi_head.shared_head.state_dict()
    for key, value in state.items():
        got = res5[key] if key.startswith('layer4.') else backbone[key]
        assert torch.equal(got, value), key
    runner.train()
    assert runner.iter == 3
    trained = runner.model.backbone.state_dict()['layer1.0.conv1.weight']
    assert not torch.equal(trained, state['layer1.0.conv1.weight'])
    metrics = runner.val_loop.run()
    assert metric in metrics and 0 <= metrics[metric] <= 1
