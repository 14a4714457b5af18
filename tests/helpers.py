"""Tiny models and configs shared by the tests."""
import os.path as osp
import uuid

from mmengine.config import Config

from conftest import CONFIG_DIR

FASHION_CONFIG = osp.join(
    CONFIG_DIR, 'bsim',
    'bsim-simclr_resnet18-cifar_1xb256-coslr-50e_fashion-mnist.py')


def tiny_config(work_dir: str,
                data_root: str,
                max_epochs: int = 2,
                batch_size: int = 8,
                validate: bool = False) -> Config:
    """The shipped config shrunk to a 4-channel ResNet and a few images."""
    cfg = Config.fromfile(FASHION_CONFIG)
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    # Several runners live in one test process: keep their loggers apart.
    cfg.experiment_name = f'tiny_{uuid.uuid4().hex[:8]}'
    cfg.randomness = dict(seed=0)
    cfg.model.backbone.base_channels = 4
    cfg.model.neck.in_channels = 32
    cfg.model.neck.hid_channels = 32
    cfg.model.neck.out_channels = 16
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.num_workers = 0
        loader.persistent_workers = False
    cfg.train_dataloader.batch_size = batch_size
    cfg.train_dataloader.dataset.data_root = data_root
    cfg.train_dataloader.dataset.indices = 4 * batch_size
    cfg.val_dataloader.batch_size = 16
    cfg.val_dataloader.dataset.bank.data_root = data_root
    cfg.val_dataloader.dataset.query.data_root = data_root
    cfg.test_dataloader = cfg.val_dataloader
    cfg.val_evaluator.k = 5
    cfg.test_evaluator = cfg.val_evaluator
    cfg.train_cfg.max_epochs = max_epochs
    cfg.train_cfg.val_interval = 1
    if max_epochs > 1:
        cfg.param_scheduler[1].end = max_epochs
        cfg.param_scheduler[1].T_max = max_epochs - 1
    else:  # warm-up only
        cfg.param_scheduler = cfg.param_scheduler[:1]
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.max_keep_ckpts = -1
    if not validate:
        cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    return cfg


def tiny_recipe(data_root: str, path: str, max_epochs: int = 1,
                cfg: Config = None) -> str:
    """A tiny config (``cfg``, by default :func:`tiny_config`) written to
    ``path`` without work dir and experiment name, as a protocol entry's
    recipe; returns ``path``."""
    if cfg is None:
        cfg = tiny_config('unused', data_root, max_epochs=max_epochs)
    cfg.pop('experiment_name', None)
    cfg.pop('work_dir', None)
    cfg.dump(path)
    return path


def on_mined_pairs(cfg: Config, pairs_file: str) -> Config:
    """Turn a :func:`tiny_config` into MoCo v2 (no BSIM term) trained on
    its images and the mined pairs in ``pairs_file`` (SePP-ID)."""
    cfg.model = tiny_base_cfg('moco', queue_len=16, bsim_weight=0.0)
    cfg.model.data_preprocessor = dict(
        type='SelfSupDataPreprocessor', mean=[0.], std=[1.])
    inner = cfg.train_dataloader.dataset
    inner.pipeline = inner.pipeline[:-1]  # the views, without PackInputs
    cfg.train_dataloader.dataset = dict(
        type='SemanticPairDataset', dataset=inner, pairs_file=pairs_file)
    return cfg


def tiny_model_cfg(norm: str = 'BN', **kwargs) -> dict:
    """BSIM-SimCLR with a 4-wide CIFAR ResNet-18 for 1-channel images.

    ``norm='GN'`` makes every layer independent of the batch composition
    (for comparing one batch with its split over processes).
    """
    if norm == 'BN':
        backbone_norm, neck_norm = dict(type='BN'), dict(type='BN1d')
    else:
        backbone_norm = neck_norm = dict(type='GN', num_groups=2)
    cfg = dict(
        type='BSIMSimCLR',
        backbone=dict(
            type='ResNet_CIFAR',
            depth=18,
            in_channels=1,
            base_channels=4,
            norm_cfg=backbone_norm),
        neck=dict(
            type='NonLinearNeck',
            in_channels=32,
            hid_channels=32,
            out_channels=16,
            num_layers=2,
            with_avg_pool=True,
            norm_cfg=neck_norm),
        head=dict(type='SoftTargetContrastiveHead', temperature=0.2),
        data_preprocessor=dict(
            type='MixtureDataPreprocessor',
            mixer=dict(type='InstanceMixer', alpha=1.0, lam_per='sample'),
            mean=[0.], std=[1.]))
    cfg.update(kwargs)
    return cfg


def tiny_neck(out_channels: int = 16, norm: str = 'BN') -> dict:
    norm_cfg = dict(type='BN1d') if norm == 'BN' else dict(
        type='GN', num_groups=2)
    return dict(
        type='NonLinearNeck',
        in_channels=32,
        hid_channels=32,
        out_channels=out_channels,
        num_layers=2,
        with_avg_pool=True,
        norm_cfg=norm_cfg)


def tiny_base_cfg(kind: str, norm: str = 'BN', **kwargs) -> dict:
    """BSIM on MoCo / BYOL / SimSiam, or SANE, with the tiny backbone of
    :func:`tiny_model_cfg` (``kind``: ``'moco'``, ``'byol'``,
    ``'simsiam'``, ``'sane'``, ``'interclr'``)."""
    cfg = tiny_model_cfg(norm=norm)
    cfg['neck'] = tiny_neck(norm=norm)
    if kind == 'moco':
        cfg.update(type='BSIMMoCo', queue_len=24, feat_dim=16, momentum=0.01)
    elif kind == 'interclr':
        cfg.update(
            type='InterCLRMoCo', queue_len=16, feat_dim=16, momentum=0.01,
            inter_head=dict(type='SoftTargetContrastiveHead',
                            temperature=0.2, margin=-0.5),
            memory=dict(length=32, num_clusters=4, min_cluster=2),
            num_negatives=8, negative_pool=16, centroid_interval=2)
        cfg['data_preprocessor'] = dict(
            type='SelfSupDataPreprocessor', mean=[0.], std=[1.])
    elif kind == 'sane':
        cfg.update(type='SANE', queue_len=24, feat_dim=16, momentum=0.01)
        # Momentum mixup: the query view with the partner's key view.
        cfg['data_preprocessor'].update(
            mixer=dict(type='InstanceMixer', alpha=2.0, pairing='random'),
            mix_views=(0, 1))
    else:
        predictor = tiny_neck(norm=norm)
        predictor.update(in_channels=16, with_avg_pool=False)
        cfg.update(
            type={'byol': 'BSIMBYOL', 'simsiam': 'BSIMSimSiam'}[kind],
            head=dict(
                type='LatentPredictHead',
                predictor=predictor,
                loss=dict(type='CosineSimilarityLoss')))
        if kind == 'byol':
            cfg['base_momentum'] = 0.01
    cfg.update(kwargs)
    return cfg
