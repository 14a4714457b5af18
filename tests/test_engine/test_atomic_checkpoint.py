"""A real training process killed at the save of a checkpoint, or stopped
by a write failure there (a full disk), keeps the previous checkpoint, and
a resumed run continues to the uninterrupted run's final state."""
import glob
import multiprocessing
import os
import os.path as osp
import traceback

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from helpers import tiny_config

# tests/save_faults.py: where the save of epoch_2.pth is cut short.
FAULTS = ('write', 'last', 'remove', 'full')


def tiny(work, data_root, checkpoint_type=None):
    cfg = tiny_config(work, data_root, max_epochs=2)
    cfg.default_hooks.checkpoint.max_keep_ckpts = 1  # as the CPU configs
    if checkpoint_type is not None:
        cfg.default_hooks.checkpoint.type = checkpoint_type
    return cfg


@pytest.fixture(scope='module')
def straight(tmp_path_factory, tiny_fashion_root):
    """The final weights of an uninterrupted run."""
    work = str(tmp_path_factory.mktemp('straight'))
    runner = Runner.from_cfg(tiny(work, tiny_fashion_root))
    runner.train()
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


def train_child(config: str, fault: str) -> None:
    """A training process: mmengine's Runner with the fault installed."""
    os.environ['BSIM_SAVE_FAULT'] = fault
    import save_faults  # noqa: F401  (installs the fault)
    cfg = Config.fromfile(config)
    try:
        Runner.from_cfg(cfg).train()
    except BaseException:
        with open(osp.join(cfg.work_dir, 'error.txt'), 'w') as f:
            f.write(traceback.format_exc())
        raise


@pytest.fixture(scope='module')
def faulted(tmp_path_factory, tiny_fashion_root):
    """Every faulty run: ``{name: (work dir, exit code, error text)}``.

    The runs are processes of a fork server that has imported the plugin
    once (each would spend most of its time importing), so each is a fresh
    process without the test process's threads; SIGKILL ends it for good.
    """
    context = multiprocessing.get_context('forkserver')
    context.set_forkserver_preload(['bsim_plugin', 'mmengine.runner'])
    done = {}
    for name in FAULTS + ('mmengine', ):
        work = str(tmp_path_factory.mktemp(name))
        cfg = tiny(work, tiny_fashion_root,
                   'CheckpointHook' if name == 'mmengine' else None)
        if name == 'mmengine':  # no plugin hook that would upgrade it
            cfg.custom_hooks = [
                h for h in cfg.custom_hooks
                if h['type'] != 'WeightsOnlyCheckpointHook'
            ]
        config = osp.join(work, 'cfg.py')
        cfg.dump(config)
        proc = context.Process(
            target=train_child,
            args=(config, 'write' if name == 'mmengine' else name))
        proc.start()
        proc.join(600)
        error = osp.join(work, 'error.txt')
        done[name] = work, proc.exitcode, (open(error).read()
                                           if osp.exists(error) else '')
    return done


def resume(work, data_root):
    cfg = tiny(work, data_root)
    cfg.resume = True
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


@pytest.mark.parametrize('fault', FAULTS)
def test_a_save_cut_short_keeps_the_work(faulted, tiny_fashion_root,
                                         straight, fault):
    work, exitcode, error = faulted[fault]
    if fault == 'full':
        assert exitcode == 1 and 'File too large' in error, error
    else:
        assert exitcode == -9, error  # SIGKILL at the save
    # A complete checkpoint is named by last_checkpoint and loads safely.
    with open(osp.join(work, 'last_checkpoint')) as f:
        last = f.read().strip()
    expected = 'epoch_2.pth' if fault == 'remove' else 'epoch_1.pth'
    assert osp.basename(last) == expected
    torch.load(last, map_location='cpu', weights_only=True)
    if fault == 'full':  # the failed write left nothing behind
        assert not glob.glob(osp.join(work, '*.incomplete'))

    runner = resume(work, tiny_fashion_root)
    assert runner.iter == 8
    state = runner.model.state_dict()
    different = [k for k in straight if not torch.equal(state[k],
                                                        straight[k])]
    assert not different, different[:5]
    # One checkpoint kept (max_keep_ckpts=1), no fragment, a valid pointer.
    assert sorted(osp.basename(p) for p in glob.glob(
        osp.join(work, '*.pth*'))) == ['epoch_2.pth']
    with open(osp.join(work, 'last_checkpoint')) as f:
        assert osp.basename(f.read().strip()) == 'epoch_2.pth'


def test_mmengine_checkpoint_hook_loses_everything_when_killed(faulted):
    """The control: the same kill with mmengine's own CheckpointHook leaves
    no checkpoint to resume from (the old one was removed first)."""
    work, exitcode, error = faulted['mmengine']
    assert exitcode == -9, error
    assert not osp.exists(osp.join(work, 'epoch_1.pth'))
    with pytest.raises(Exception):
        torch.load(osp.join(work, 'epoch_2.pth'), weights_only=True)


def test_configs_with_mmpretrain_runtime_get_it_too(tmp_path,
                                                    tiny_fashion_root):
    """A config whose checkpoint hook is mmengine's (as every config that
    inherits mmpretrain's runtime) writes atomically with the plugin's
    runtime hooks, and records the algorithm for the resume check."""
    from bsim_plugin.engine.hooks import AtomicCheckpointHook
    cfg = tiny(str(tmp_path), tiny_fashion_root, 'CheckpointHook')
    cfg.train_cfg.max_epochs = 1
    cfg.param_scheduler = cfg.param_scheduler[:1]
    runner = Runner.from_cfg(cfg)
    runner.train()
    hooks = [h for h in runner.hooks if type(h).__name__.endswith(
        'CheckpointHook') and 'WeightsOnly' not in type(h).__name__]
    assert [type(h) for h in hooks] == [AtomicCheckpointHook]
    meta = torch.load(osp.join(str(tmp_path), 'epoch_1.pth'),
                      weights_only=True)['meta']
    assert meta['model_type'] == 'BSIMSimCLR'
