"""--resume refuses another run's checkpoint before loading anything: another
algorithm, a model of another shape, or (InterCLR) a data set of another
length than the memory."""
import shutil

import pytest
from mmengine.runner import Runner

from helpers import tiny_base_cfg, tiny_config


def config(work, data_root, kind, images=32, **model):
    cfg = tiny_config(work, data_root, max_epochs=1)
    cfg.train_dataloader.dataset.indices = images
    if kind != 'simclr':
        cfg.model = tiny_base_cfg(kind, **model)
    if kind == 'interclr':
        cfg.custom_hooks = list(cfg.custom_hooks) + [
            dict(type='InterCLRMemoryHook', batch_size=16, backend='torch')
        ]
    return cfg


@pytest.fixture(scope='module')
def runs(tmp_path_factory, tiny_fashion_root):
    """One epoch of MoCo and of InterCLR (memory of 32 rows, 32 images)."""
    works = {}
    for kind in ('moco', 'interclr'):
        work = str(tmp_path_factory.mktemp(kind))
        Runner.from_cfg(config(work, tiny_fashion_root, kind,
                               queue_len=16)).train()
        works[kind] = work
    return works


def resume(runs, kind, tmp_path, cfg_of):
    """Resume a copy of ``kind``'s work dir with the config ``cfg_of``
    builds for it."""
    work = str(tmp_path / 'work')
    shutil.copytree(runs[kind], work)
    cfg = cfg_of(work)
    cfg.resume = True
    cfg.train_cfg.max_epochs = 2
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


@pytest.mark.parametrize('written_by,into,names', [
    ('interclr', 'moco', ('InterCLRMoCo', 'BSIMMoCo')),
    ('moco', 'simclr', ('BSIMMoCo', 'BSIMSimCLR')),
])
def test_another_algorithm_is_refused(runs, tmp_path, tiny_fashion_root,
                                      written_by, into, names):
    with pytest.raises(ValueError, match='resume refused') as err:
        resume(runs, written_by, tmp_path,
               lambda w: config(w, tiny_fashion_root, into, queue_len=16))
    message = str(err.value)
    assert f'written by {names[0]}, ' in message
    assert f'this config builds {names[1]}' in message
    assert 'epoch_1.pth' in message


def test_a_model_of_another_shape_is_refused(runs, tmp_path,
                                             tiny_fashion_root):
    with pytest.raises(ValueError, match='resume refused') as err:
        resume(runs, 'moco', tmp_path,
               lambda w: config(w, tiny_fashion_root, 'moco', queue_len=24))
    assert 'queue checkpoint (16, 16) vs model (16, 24)' in str(err.value)


@pytest.mark.parametrize('images', [24, 40])
def test_interclr_memory_must_fit_the_resumed_data_set(
        runs, tmp_path, tiny_fashion_root, images):
    """Fewer images would train on stale rows, more would index past the
    memory: both are refused before the first step."""
    with pytest.raises(ValueError, match='memory restored from the '
                       'checkpoint has length 32') as err:
        resume(runs, 'interclr', tmp_path,
               lambda w: config(w, tiny_fashion_root, 'interclr',
                                images=images))
    assert f'the training data set {images} images' in str(err.value)


def test_the_same_run_still_resumes(runs, tmp_path, tiny_fashion_root):
    runner = resume(runs, 'interclr', tmp_path,
                    lambda w: config(w, tiny_fashion_root, 'interclr'))
    assert runner.iter == 8 and runner.epoch == 2
