"""Detection transfer on CPU with mmdet's own datasets and evaluators: a
tiny detection set written by tools/benchmarks/mmdetection/
make_fashion_detection.py (real JPEG files, real VOC XML and COCO JSON
annotations), a grey ResNet-18 backbone loaded strictly into the Faster
R-CNN C4 smoke configs, a few training iterations and one evaluation; a
fine-tuning interrupted and resumed with mmdet's own train script; the
pre-trained vs random comparison script on a tiny case."""
import os
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
    # The backbone holds res2-res4 of the pre-trained weights; the RoI
    # head's res5 is mmdet's fresh init (pretrained_prefixes.roi_head=[]):
    # its blocks' last BN weights at 1, not the checkpoint's.
    assert cfg.pretrained_prefixes.roi_head == []
    runner.model.init_weights()
    backbone = runner.model.backbone.state_dict()
    res5 = runner.model.roi_head.shared_head.state_dict()
    for key, value in state.items():
        if key.startswith('layer4.'):
            if value.dim() == 4:  # conv weights: drawn afresh
                assert not torch.equal(res5[key], value), key
        else:
            assert torch.equal(backbone[key], value), key
    assert torch.equal(res5['layer4.1.bn2.weight'], torch.ones(512))
    runner.train()
    assert runner.iter == 3
    trained = runner.model.backbone.state_dict()['layer1.0.conv1.weight']
    assert not torch.equal(trained, state['layer1.0.conv1.weight'])
    metrics = runner.val_loop.run()
    assert metric in metrics and 0 <= metrics[metric] <= 1


def mmdet_train(*args):
    """mmdet's own tools/train.py (shipped in the mmdet package) in a
    process of its own, as a user runs it."""
    import subprocess
    sys.path.insert(0, osp.join(ROOT, 'tools', 'benchmarks', 'mmdetection'))
    from train import mmdet_train_script
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (ROOT, env.get('PYTHONPATH')) if p)
    return subprocess.run(
        [sys.executable, mmdet_train_script(), *map(str, args)], cwd=ROOT,
        env=env, capture_output=True, text=True, timeout=600)


def small_voc_config(path, root, ckpt):
    """The shipped VOC smoke config on the tiny set: 112 px, 16 RoIs,
    batch 2, a checkpoint every 2 iterations, no evaluation."""
    cfg = Config.fromfile(SMOKE.format('voc'))
    cfg.model.backbone.init_cfg.checkpoint = ckpt
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[key]
        loader.dataset.data_root = root
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.batch_size = 2
        for step in loader.dataset.pipeline:
            if step['type'] == 'Resize':
                step['scale'] = (112, 112)
    cfg.model.train_cfg.rcnn.sampler.num = 16
    cfg.train_cfg.max_iters = 4
    cfg.default_hooks.checkpoint.interval = 2
    cfg.default_hooks.logger.interval = 1
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.randomness = dict(seed=0)
    cfg.dump(str(path))
    return str(path)


def test_finetuning_resumes_through_mmdet_train_script(
        tmp_path, detection_set, grey_resnet18):
    """A fine-tuning that stopped after its iteration-2 checkpoint resumes
    with mmdet's tools/train.py --resume and finishes at iteration 4, with
    the loss history of iterations 1-2 restored. The control, the same run
    with mmdet's own checkpoint hook and no plugin hooks, writes a
    checkpoint that torch's safe loading (mmengine's resume) refuses."""
    import torch.serialization
    root, _ = detection_set
    ckpt, _ = grey_resnet18
    cfg = small_voc_config(tmp_path / 'det.py', root, ckpt)
    work = tmp_path / 'run'
    first = mmdet_train(cfg, '--work-dir', work, '--cfg-options',
                        'train_cfg.max_iters=2')
    assert first.returncode == 0, first.stderr[-3000:]
    assert sorted(p.name for p in work.glob('iter_*.pth')) == ['iter_2.pth']
    resumed = mmdet_train(cfg, '--work-dir', work, '--resume')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    log = resumed.stdout + resumed.stderr
    assert 'resumed epoch: 0, iter: 2' in log
    assert 'Iter(train) [3/4]' in log and 'Iter(train) [1/4]' not in log
    final = torch.load(str(work / 'iter_4.pth'), weights_only=True)
    assert final['meta']['iter'] == 4
    assert final['meta']['model_type'] == 'FasterRCNN'
    assert len(final['rng_state']) == 1
    loss = final['message_hub']['log_scalars']['train/loss']
    assert len(loss['log_history']) == 4  # 2 before the resume, 2 after

    control = tmp_path / 'control'
    proc = mmdet_train(cfg, '--work-dir', control, '--cfg-options',
                       'train_cfg.max_iters=2', 'custom_hooks=[]',
                       'default_hooks.checkpoint.type=CheckpointHook')
    assert proc.returncode == 0, proc.stderr[-3000:]
    with pytest.raises(Exception, match='HistoryBuffer') as info:
        torch.load(str(control / 'iter_2.pth'), weights_only=True)
    assert 'Unpickl' in type(info.value).__name__


def test_comparison_script_runs_and_reports(tmp_path, detection_set,
                                            grey_resnet18, capsys):
    """detection_smoke.py on a tiny case: the arms' configs, one real run
    through mmdet's train script with its VOC metric, the results file, a
    rerun that skips it, and the README block."""
    import json
    sys.path.insert(0, osp.join(ROOT, 'tools', 'benchmarks', 'mmdetection'))
    import detection_smoke
    root, _ = detection_set
    ckpt, state = grey_resnet18
    results = tmp_path / 'detection_smoke.jsonl'
    base = [ckpt, '--data-root', root, '--iters', '1', '--scale', '112',
            '--rois', '16', '--batch-size', '2', '--workers', '0',
            '--work-dir', str(tmp_path / 'work'), '--results', str(results)]
    detection_smoke.main(base + ['--dry-run', '--seeds', '3', '--arms',
                                 'pretrained', 'pretrained-res5', 'random'])
    inits = {}
    for arm in ('pretrained', 'pretrained-res5', 'random'):
        cfg = Config.fromfile(str(
            tmp_path / 'work' / f'{arm}_seed3' /
            'faster-rcnn_r18-c4_300it_fashion-voc.py'))
        assert cfg.randomness.seed == 3 and cfg.train_cfg.max_iters == 1
        inits[arm] = (cfg.model.backbone.init_cfg,
                      cfg.model.roi_head.shared_head.init_cfg)
    assert inits['pretrained'][0].prefixes == [
        'conv1.', 'bn1.', 'layer1.', 'layer2.', 'layer3.']
    assert inits['pretrained'][1] is None
    assert inits['pretrained-res5'][1].prefixes == ['layer4.']
    assert inits['random'] == (None, None)
    assert not results.exists()

    readme = tmp_path / 'README.md'
    readme.write_text('# x\n<!-- detection-smoke:begin (tools/benchmarks/'
                      'quality.py report) -->\nold\n'
                      '<!-- detection-smoke:end -->\nafter\n')
    detection_smoke.main(base + ['--seeds', '0', '--arms', 'pretrained',
                                 '--readme', str(readme)])
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(rows) == 1 and rows[0]['arm'] == 'pretrained'
    assert rows[0]['metric'] == 'pascal_voc/mAP'
    assert 0 <= rows[0]['map50'] <= 100 and rows[0]['iters'] == 1
    text = readme.read_text()
    assert '| pretrained | 1 |' in text and 'old' not in text
    assert text.endswith('<!-- detection-smoke:end -->\nafter\n')
    capsys.readouterr()
    detection_smoke.main(base + ['--seeds', '0', '--arms', 'pretrained'])
    assert 'skipped' in capsys.readouterr().out
    assert len(results.read_text().splitlines()) == 1


def test_comparison_report_verdict():
    sys.path.insert(0, osp.join(ROOT, 'tools', 'benchmarks', 'mmdetection'))
    import detection_smoke
    settings = dict(config='c.py', backbone_sha256='ab' * 32, iters=300,
                    scale=224, rois=64, batch_size=4)

    def rows(arm, values):
        return [dict(settings, arm=arm, seed=s, map50=v, wall_s=60.0)
                for s, v in enumerate(values)]

    apart = detection_smoke.report(
        rows('pretrained', [50, 52, 54]) + rows('random', [35, 36, 37]) +
        [dict(rows('random', [99])[0], iters=100)], settings)
    assert '| pretrained | 3 | 52.00 ± 2.00 |' in apart
    assert '| random | 3 | 36.00 ± 1.00 |' in apart  # the 100-it run: out
    assert '**+16.00** points, more than the spread' in apart
    assert 'above every random one: yes' in apart
    close = detection_smoke.report(
        rows('pretrained', [40, 45, 50]) + rows('random', [38, 43, 48]),
        settings)
    assert 'within the spread' in close
    assert detection_smoke.report([], settings) == ''
