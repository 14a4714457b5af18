"""Every shipped config parses, and its model, pipelines and (where the data
is synthetic-compatible) datasets build."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import DATASETS, MODELS, TRANSFORMS

from conftest import CONFIG_DIR

CONFIGS = sorted(
    p for p in glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True)
    if '_base_' not in p and osp.join('benchmarks', 'quality') not in p
    and osp.join('benchmarks', 'mmdetection') not in p)


def test_configs_are_shipped():
    names = [osp.basename(p) for p in CONFIGS]
    assert 'bsim-simclr_resnet50_16xb256-coslr-200e_in1k.py' in names
    assert any('fashion-mnist' in n for n in names)


def pipelines(node):
    if isinstance(node, dict):
        if 'pipeline' in node:
            yield node['pipeline']
        for value in node.values():
            yield from pipelines(value)


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(p, CONFIG_DIR) for p in CONFIGS])
def test_config_builds(path, tiny_fashion_root):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpretrain'
    assert 'bsim_plugin' in cfg.custom_imports['imports']
    init_default_scope('mmpretrain')
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    model = MODELS.build(model_cfg)
    assert type(model).__name__ == cfg.model.type
    for pipeline in pipelines(cfg.train_dataloader):
        for transform in pipeline:
            TRANSFORMS.build(transform)
    if cfg.train_dataloader.dataset.type == 'FashionMNIST':
        for key in ('train_dataloader', 'val_dataloader'):
            ds_cfg = cfg[key].dataset.copy()
            for part in (ds_cfg, ds_cfg.get('bank'), ds_cfg.get('query')):
                if part and 'data_root' in part:
                    part['data_root'] = tiny_fashion_root
            dataset = DATASETS.build(ds_cfg)
            item = dataset[0]
            assert 'inputs' in item


METHODS = ('bsim', 'sane', 'sepp', 'interclr')
METHOD_CONFIGS = [
    p for p in CONFIGS
    if any(osp.join('configs', m) + osp.sep in p for m in METHODS)
]


def shrink_backbone(backbone):
    """The config's backbone family at the smallest size (2 steps of a
    ResNet-50 at 224 px would take most of the suite's time)."""
    backbone['depth'] = 18
    if backbone.get('type') == 'ResNet_CIFAR':
        backbone['base_channels'] = 4
    if backbone.get('norm_cfg', {}).get('type') == 'SplitBN':
        backbone['norm_cfg']['num_splits'] = 2  # batches of 4 here
    return backbone


MOCO_FAMILY = ('MoCo', 'BSIMMoCo', 'SANE', 'InterCLRMoCo')


@pytest.mark.parametrize(
    'path', METHOD_CONFIGS,
    ids=[osp.relpath(p, CONFIG_DIR) for p in METHOD_CONFIGS])
def test_one_process_moco_configs_split_batch_norm(path):
    """On one process MoCo's batch shuffle is a plain permutation: every
    single-process MoCo-family config splits BatchNorm; multi-process ones
    keep ShuffleBN with their own norm."""
    cfg = Config.fromfile(path)
    if cfg.model.type not in MOCO_FAMILY:
        pytest.skip(f'{cfg.model.type} has no momentum key encoder')
    norm = cfg.model.backbone.get('norm_cfg', {}).get('type')
    if '_1xb' in osp.basename(path):
        assert norm == 'SplitBN', path
        batch = cfg.train_dataloader.batch_size
        assert batch % cfg.model.backbone.norm_cfg.num_splits == 0
    else:
        assert norm != 'SplitBN', path


@pytest.mark.parametrize(
    'path', METHOD_CONFIGS,
    ids=[osp.relpath(p, CONFIG_DIR) for p in METHOD_CONFIGS])
def test_config_trains_a_few_iterations(path, tiny_fashion_root):
    """The config's algorithm, neck, head, data preprocessor (mixing
    included) and optimizer wrapper take two training steps; the loss is
    finite and the weights move. A mixture made in the pipeline comes from
    the config's own train dataset (on tiny Fashion-MNIST-like data)."""
    import torch
    from mmengine.logging import MessageHub
    from mmengine.model import revert_sync_batchnorm
    from mmengine.optim import build_optim_wrapper
    from mmpretrain.structures import DataSample

    cfg = Config.fromfile(path)
    init_default_scope('mmpretrain')
    MessageHub.get_current_instance().update_info('max_iters', 10)
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    backbone = shrink_backbone(model_cfg.backbone)
    widths = {'ResNet': 512, 'ResNet_CIFAR': 32}
    model_cfg.neck.in_channels = widths[backbone.type]
    if 'queue_len' in model_cfg:
        model_cfg.queue_len = 8
    if 'memory' in model_cfg:  # InterCLR: a memory of 16 samples
        model_cfg.memory.update(length=16, num_clusters=2, min_cluster=2)
        model_cfg.update(num_negatives=4, negative_pool=8)
    torch.manual_seed(0)
    # SyncBN needs a process group; one process trains with plain BN.
    model = revert_sync_batchnorm(MODELS.build(model_cfg))
    model.train_progress = (0, 10)  # TrainProgressHook's, without a runner
    if 'memory' in model_cfg:
        import torch.nn.functional as F
        feats = F.normalize(torch.randn(16, model.memory.feats.size(1)),
                            dim=1)
        labels = torch.arange(16) % 2
        model.memory.fill(feats, labels, torch.stack(
            [feats[labels == c].mean(0) for c in range(2)]))
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    channels = backbone.get('in_channels', 3)
    # Two views, or three when a third one is mixed (SANE's strong variant).
    mix_views = (cfg.get('data_preprocessor') or {}).get('mix_views', (0, 0))
    num_views = max(2, max(mix_views) + 1)
    before = [p.detach().clone() for p in model.backbone.parameters()]
    dataset = None
    if cfg.train_dataloader.dataset.type == 'MixturePairDataset':
        from mmengine.dataset import default_collate
        ds_cfg = cfg.train_dataloader.dataset.copy()
        ds_cfg.dataset.data_root = tiny_fashion_root
        ds_cfg.dataset.indices = 8
        dataset = DATASETS.build(ds_cfg)
    for step in range(2):
        if dataset is not None:
            data = default_collate([dataset[step * 4 + i] for i in range(4)])
        else:
            data = dict(
                inputs=[
                    torch.randint(0, 255, (4, channels, 32, 32),
                                  dtype=torch.uint8)
                    for _ in range(num_views)
                ],
                data_samples=[
                    DataSample(metainfo=dict(sample_idx=step * 4 + i))
                    for i in range(4)
                ])
        log = model.train_step(data, optim)
        assert log and all(torch.isfinite(v) for v in log.values()), log
    if getattr(model, 'bsim_weight', 0) > 0:
        assert 'loss_bsim' in log
    if getattr(model, 'mixup_weight', 0) > 0:
        assert 'loss_mm' in log
    if 'memory' in model_cfg:
        assert 'loss_inter' in log
    moved = [not torch.equal(a, b.detach())
             for a, b in zip(before, model.backbone.parameters())]
    assert any(moved)


@pytest.mark.parametrize('method', METHODS)
def test_metafile_lists_every_model_config(method):
    import yaml
    with open(osp.join(CONFIG_DIR, method, 'metafile.yml')) as f:
        meta = yaml.safe_load(f)
    listed = {m['Config'] for m in meta['Models']}
    shipped = {
        osp.relpath(p, osp.dirname(CONFIG_DIR))
        for p in METHOD_CONFIGS if osp.join('configs', method) + osp.sep in p
        and not p.endswith('-demo.py')
    }
    assert shipped == listed


@pytest.mark.parametrize(
    'path', METHOD_CONFIGS,
    ids=[osp.relpath(p, CONFIG_DIR) for p in METHOD_CONFIGS])
def test_schedule_following_algorithms_get_their_progress(path):
    """SANE's ramp and InterCLR's warm-up read train_progress, which only
    TrainProgressHook sets: every config of theirs has it."""
    cfg = Config.fromfile(path)
    if cfg.model.type not in ('SANE', 'InterCLRMoCo'):
        pytest.skip(f'{cfg.model.type} follows no schedule')
    hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
    assert 'TrainProgressHook' in hooks, path
