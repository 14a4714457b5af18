"""The long protocol's kNN curve: scored after every interval-th epoch and
the last, on the first images of each split, and kept in the run's record;
a run stopped part-way resumes where it stopped."""
import os
import os.path as osp
import sys

import pytest
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from conftest import ROOT
from helpers import tiny_config

sys.path.append(osp.join(ROOT, 'tools', 'benchmarks'))
from quality_tool import curve  # noqa: E402
from quality_tool.protocol import load_protocol  # noqa: E402
from quality_tool.resume import (RUN_RECORD, resume_point,  # noqa: E402
                                 run_record)
from quality_tool.runs import (curve_arrays, run_entry,  # noqa: E402
                               split_arrays)


def test_curve_epochs_are_every_interval_and_the_last():
    assert curve.curve_epochs(5, 12) == [5, 10, 12]
    assert curve.curve_epochs(1, 3) == [1, 2, 3]
    assert curve.curve_epochs(10, 10) == [10]


@pytest.mark.parametrize('bad', [dict(interval=0, bank=10, queries=5),
                                 dict(interval=2, bank=10),
                                 dict(interval=2, bank=10, queries=5, x=1),
                                 dict(interval=True, bank=10, queries=5)])
def test_bad_curve_settings_are_named(bad):
    with pytest.raises(ValueError, match='curve='):
        curve.check_curve('p.py', bad)


class Interrupted(Exception):
    pass


@HOOKS.register_module()
class InterruptAfterFirstCheckpoint(Hook):
    """Part of the tiny protocol's config (so the digest is the same armed
    or not): when armed, stops the run right after epoch 1's checkpoint."""
    priority = 'LOWEST'  # after the CheckpointHook (VERY_LOW)
    armed = False

    def after_train_epoch(self, runner):
        if self.armed and runner.epoch == 0:
            raise Interrupted


@pytest.fixture(scope='module')
def tiny_protocol(tmp_path_factory, tiny_fashion_root):
    """A two-epoch protocol with a curve after each epoch, and one run of it
    straight through."""
    tmp = tmp_path_factory.mktemp('tiny-long')
    cfg = tiny_config('unused', tiny_fashion_root, max_epochs=2)
    cfg.pop('experiment_name')
    cfg.pop('work_dir')
    cfg.custom_hooks.append(dict(type='InterruptAfterFirstCheckpoint'))
    config = str(tmp / 'tiny.py')
    cfg.dump(config)
    path = tmp / 'protocol.py'
    path.write_text('protocol = ' + repr(dict(
        name='tiny-long', dataset=dict(type='FashionMNIST',
                                       data_root=tiny_fashion_root),
        knn=dict(k=5, temperature=0.1), seeds=[0],
        curve=dict(interval=1, bank=16, queries=8),
        entries=[dict(name='tiny', method='BSIM-SimCLR', config=config)]))
        + '\n')
    proto = load_protocol(str(path))
    straight = run_entry(proto, proto['entries'][0], 0, str(tmp / 'w'),
                         progress=False)
    return proto, straight


def test_a_run_records_its_curve(tiny_protocol):
    proto, record = tiny_protocol
    assert [p[0] for p in record['curve']] == [1, 2]
    assert all(0 <= p[1] <= 100 for p in record['curve'])
    assert (record['curve_bank'], record['curve_queries']) == (16, 8)
    assert 0 <= record['curve_s'] <= record['train_s']
    assert 'resumed' not in record
    # The curve's subsets are the first images of each split.
    arrays = split_arrays(proto)
    bank, bank_y, query, _ = curve_arrays(arrays, proto['curve'])
    assert (len(bank), len(query)) == (16, 8)
    assert bank.equal(arrays[0][:16]) and bank_y.equal(arrays[1][:16])


def test_a_stopped_run_resumes_where_it_stopped(tiny_protocol, tmp_path):
    """Interrupted after epoch 1, the next run of the same entry and seed
    resumes from its checkpoint, keeps epoch 1's curve point and ends with
    the straight run's figures; another seed or recipe does not resume."""
    proto, straight = tiny_protocol
    entry = proto['entries'][0]
    work_root = str(tmp_path)
    InterruptAfterFirstCheckpoint.armed = True
    try:
        with pytest.raises(Interrupted):
            run_entry(proto, entry, 0, work_root, progress=False)
    finally:
        InterruptAfterFirstCheckpoint.armed = False
    work_dir = osp.join(work_root, 'tiny-long', 'tiny', 'seed0')
    digest = straight['config_digest']
    point = resume_point(work_dir, digest, 0)
    assert point['epoch'] == 1
    assert point['curve'] == straight['curve'][:1]
    assert point['train_s'] > 0
    assert resume_point(work_dir, digest, 1) is None
    assert resume_point(work_dir, 'another-recipe', 0) is None

    resumed = run_entry(proto, entry, 0, work_root, progress=False)
    assert resumed['resumed'] == [1]
    assert resumed['curve'] == straight['curve']
    assert resumed['knn_top1'] == straight['knn_top1']
    assert resumed['train_s'] >= point['train_s']
    assert resumed['config_digest'] == digest

    # The finished run's record is kept beside its final checkpoint, for
    # that checkpoint only: not for another seed, nor once it is rewritten.
    final = resume_point(work_dir, digest, 0)['path']
    assert run_record(work_dir, final, digest, 0)['knn_top1'] == \
        straight['knn_top1']
    assert run_record(work_dir, final, digest, 1) is None
    assert run_record(work_dir, point['path'], digest, 0) is None
    later = osp.getmtime(osp.join(work_dir, RUN_RECORD)) + 10
    os.utime(final, (later, later))
    assert run_record(work_dir, final, digest, 0) is None


def test_the_gpu_protocol_is_ready_to_run():
    """Every entry of the GPU protocol builds: CIFAR-stem ResNet-18 at full
    width, the whole train split, batch 512, 200 epochs, with its curve."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    from quality_tool.protocol import build_config
    init_default_scope('mmpretrain')
    proto = load_protocol(osp.join(ROOT, 'configs', 'benchmarks', 'quality',
                                   'fashion-mnist_gpu.py'))
    assert proto['curve'] == dict(interval=10, bank=10000, queries=2000)
    for entry in proto['entries']:
        cfg = build_config(entry['config'], entry['cfg_options'])
        model_cfg = dict(cfg.model)
        model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
        model = MODELS.build(model_cfg)
        assert type(model.backbone).__name__ == 'ResNet_CIFAR'
        assert model.backbone.base_channels == 64
        assert cfg.train_dataloader.batch_size == 512
        assert cfg.train_cfg.max_epochs == 200
        dataset = cfg.train_dataloader.dataset
        inner = dataset.get('dataset', dataset)
        assert inner.get('indices') is None, entry['name']


def test_the_long_cpu_protocol_builds_at_its_width():
    """Every entry of the long CPU protocol builds at width 32 on 10,000
    images, and its neck takes the 32-wide backbone's features."""
    import torch
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    from quality_tool.protocol import build_config
    init_default_scope('mmpretrain')
    proto = load_protocol(osp.join(ROOT, 'configs', 'benchmarks', 'quality',
                                   'fashion-mnist_cpu-long.py'))
    assert proto['curve']['bank'] == 10000
    for entry in proto['entries']:
        cfg = build_config(entry['config'], entry['cfg_options'])
        model_cfg = dict(cfg.model)
        model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
        model = MODELS.build(model_cfg)
        assert model.backbone.base_channels == 32, entry['name']
        # An option entry (BSIM's weight, alpha or mode) reaches its model.
        mixer = getattr(model.data_preprocessor, 'mixer', None)
        for key, value in entry['cfg_options'].items():
            if key == 'model.bsim_weight':
                assert model.bsim_weight == value, entry['name']
            elif key.startswith('data_preprocessor.mixer.'):
                attribute = key.rsplit('.', 1)[1]
                assert getattr(mixer, attribute) == value, entry['name']
        dataset = cfg.train_dataloader.dataset
        assert dataset.get('dataset', dataset)['indices'] == 10000
        model.eval()  # 28 px reach res5 at 1x1: BN needs eval mode here
        with torch.no_grad():
            out = model.neck(model.backbone(torch.zeros(2, 1, 28, 28)))
        assert out[0].shape[0] == 2, entry['name']
