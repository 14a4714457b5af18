"""Pre-training on a folder of unlabelled images with the shipped
custom-folder config: a real Runner trains on images of mixed sizes and
formats in nested folders."""
import os.path as osp
import uuid

import numpy as np
from mmengine.config import Config
from mmengine.runner import Runner
from PIL import Image

from conftest import CONFIG_DIR


def test_custom_folder_config_trains(tmp_path):
    root = tmp_path / 'my_images'
    rng = np.random.default_rng(0)
    for i in range(8):
        sub = root / ('a' if i % 2 else 'b/c')
        sub.mkdir(parents=True, exist_ok=True)
        h, w = rng.integers(40, 90, size=2)
        img = rng.integers(0, 255, size=(h, w, 3), dtype=np.uint8)
        Image.fromarray(img).save(sub / f'{i}.{"png" if i % 3 else "jpg"}')
    cfg = Config.fromfile(
        osp.join(CONFIG_DIR, 'bsim',
                 'bsim-simclr_resnet18_1xb64-coslr-100e_custom-folder.py'))
    cfg.train_dataloader.dataset.data_root = str(root)
    cfg.train_dataloader.batch_size = 4
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    for view in cfg.train_dataloader.dataset.pipeline[1].transforms[0]:
        if view.type == 'RandomResizedCrop':
            view.scale = 32  # small and quick; the config uses 224
    cfg.train_cfg.max_epochs = 1
    cfg.param_scheduler = cfg.param_scheduler[:1]
    cfg.work_dir = str(tmp_path / 'work')
    cfg.experiment_name = f'custom_{uuid.uuid4().hex[:8]}'
    cfg.default_hooks.logger.interval = 1
    runner = Runner.from_cfg(cfg)
    assert len(runner.train_dataloader.dataset) == 8
    runner.train()
    assert runner.iter == 2
    assert osp.isfile(osp.join(cfg.work_dir, 'epoch_1.pth'))
