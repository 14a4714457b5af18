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
    if '_base_' not in p and osp.join('benchmarks', 'quality') not in p)


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
