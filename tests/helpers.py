"""Tiny variants of the shipped Fashion-MNIST config for runner tests."""
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
