"""A real Runner trains, checkpoints, is interrupted, resumes, and ends in
exactly the state of an uninterrupted run; checkpoints load with torch's
safe ``weights_only`` loading."""
import os.path as osp
import pickle

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from helpers import tiny_config


class Interrupted(Exception):
    pass


class InterruptAfterFirstEpoch(Hook):
    """Simulates a crash right after epoch 1's checkpoint is written."""
    priority = 'LOWEST'

    def after_train_epoch(self, runner):
        if runner.epoch == 0:
            raise Interrupted


def train(cfg, interrupt=False):
    runner = Runner.from_cfg(cfg)
    if interrupt:
        runner.register_hook(InterruptAfterFirstEpoch())
        with pytest.raises(Interrupted):
            runner.train()
    else:
        runner.train()
    return runner


def model_state(runner):
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f'differ after resume: {different[:5]}'


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory, tiny_fashion_root):
    work = str(tmp_path_factory.mktemp('straight'))
    runner = train(tiny_config(work, tiny_fashion_root))
    return model_state(runner), runner


def test_resume_reaches_the_uninterrupted_state(tmp_path, tiny_fashion_root,
                                                uninterrupted):
    expected, straight = uninterrupted
    work = str(tmp_path)
    train(tiny_config(work, tiny_fashion_root), interrupt=True)
    assert osp.isfile(osp.join(work, 'epoch_1.pth'))
    assert not osp.isfile(osp.join(work, 'epoch_2.pth'))

    cfg = tiny_config(work, tiny_fashion_root)
    cfg.resume = True  # auto: the latest checkpoint in the work dir
    resumed = train(cfg)
    assert resumed.iter == straight.iter == 8
    assert_same_state(model_state(resumed), expected)
    # The optimizer's momentum buffers too.
    opt_a = straight.optim_wrapper.optimizer.state_dict()['state']
    opt_b = resumed.optim_wrapper.optimizer.state_dict()['state']
    assert opt_a.keys() == opt_b.keys()
    for key in opt_a:
        assert torch.equal(opt_a[key]['momentum_buffer'],
                           opt_b[key]['momentum_buffer'])
    # The logged loss history came through the checkpoint and continued.
    hist_a = straight.message_hub.get_scalar('train/loss').data[0]
    hist_b = resumed.message_hub.get_scalar('train/loss').data[0]
    assert len(hist_b) == len(hist_a) == 8
    assert (hist_a == hist_b).all()


def test_without_rng_state_the_resumed_run_differs(tmp_path,
                                                   tiny_fashion_root,
                                                   uninterrupted):
    """The control: the exact match above is the hook's doing."""
    expected, _ = uninterrupted
    work = str(tmp_path)
    def without_rng_hook():
        cfg = tiny_config(work, tiny_fashion_root)
        cfg.custom_hooks = [
            h for h in cfg.custom_hooks if h['type'] != 'RNGStateHook'
        ]
        assert [h['type'] for h in cfg.custom_hooks] == [
            'WeightsOnlyCheckpointHook', 'TrainProgressHook'
        ]
        return cfg

    train(without_rng_hook(), interrupt=True)
    cfg = without_rng_hook()
    cfg.resume = True
    resumed = train(cfg)
    a, b = model_state(resumed), expected
    assert any(not torch.equal(a[k], b[k]) for k in a)


def test_checkpoints_load_with_weights_only(uninterrupted):
    _, straight = uninterrupted
    ckpt = osp.join(straight.work_dir, 'epoch_2.pth')
    checkpoint = torch.load(ckpt, map_location='cpu', weights_only=True)
    assert {'state_dict', 'optimizer', 'message_hub', 'rng_state'} <= set(
        checkpoint)
    assert len(checkpoint['rng_state']) == 1
    loss = checkpoint['message_hub']['log_scalars']['train/loss']
    assert loss['__history_buffer__'] and len(loss['log_history']) == 8


class NotAllowed:
    pass


def test_safe_loading_still_refuses_other_objects(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save({'x': NotAllowed()}, path)
    with pytest.raises(pickle.UnpicklingError, match='NotAllowed'):
        torch.load(path, weights_only=True)
    # The plugin did not switch the default off.
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)


def test_moco_queue_resumes_exactly(tmp_path, tiny_fashion_root):
    """BSIM-MoCo keeps MoCo's queue, pointer and momentum encoder in the
    checkpoint: a resumed run ends where the uninterrupted one does (the
    queue of 16 keys wraps around in the 8 iterations of batch 8)."""
    from helpers import tiny_base_cfg

    def moco_config(work):
        cfg = tiny_config(work, tiny_fashion_root)
        cfg.model = tiny_base_cfg('moco', queue_len=16)
        return cfg

    straight = train(moco_config(str(tmp_path / 'straight')))
    expected = model_state(straight)
    assert int(expected['queue_ptr']) == 0  # 8 batches of 8 in 16 slots
    work = str(tmp_path / 'resumed')
    train(moco_config(work), interrupt=True)
    cfg = moco_config(work)
    cfg.resume = True
    resumed = train(cfg)
    assert resumed.iter == 8
    state = model_state(resumed)
    assert {'queue', 'queue_ptr'} <= set(state)
    assert any(k.startswith('encoder_k.') for k in state)
    assert_same_state(state, expected)


def test_sane_resumes_the_queue_and_the_mu_ramp_exactly(
        tmp_path, tiny_fashion_root):
    """SANE's queue and momentum encoder come back from the checkpoint and
    its ``mu`` ramp continues from the restored iteration."""
    from helpers import tiny_base_cfg

    def sane_config(work):
        cfg = tiny_config(work, tiny_fashion_root)
        cfg.model = tiny_base_cfg('sane', queue_len=16, mu_start=0.5,
                                  mu_end=2.0)
        return cfg

    straight = train(sane_config(str(tmp_path / 'straight')))
    expected = model_state(straight)
    work = str(tmp_path / 'resumed')
    train(sane_config(work), interrupt=True)
    cfg = sane_config(work)
    cfg.resume = True
    resumed = train(cfg)
    assert resumed.iter == 8
    assert_same_state(model_state(resumed), expected)
    mu_a = straight.message_hub.get_scalar('train/sane_mu').data[0]
    mu_b = resumed.message_hub.get_scalar('train/sane_mu').data[0]
    # The ramp: 0.5 at the first of 8 iterations, rising towards 2.0.
    assert mu_a[0] == pytest.approx(0.5)
    assert (mu_a[1:] > mu_a[:-1]).all() and mu_a[-1] < 2.0
    assert (mu_a == mu_b).all()


def test_interclr_memory_is_built_and_resumes_exactly(
        tmp_path, tiny_fashion_root):
    """InterCLRMemoryHook fills the memory (features + k-means) before the
    first step; the memory, its labels and centroids and the queue come
    back from the checkpoint (the hook does not rebuild it) and the resumed
    run ends where the uninterrupted one does."""
    from helpers import tiny_base_cfg

    def interclr_config(work):
        cfg = tiny_config(work, tiny_fashion_root)
        cfg.model = tiny_base_cfg('interclr')
        cfg.custom_hooks = list(cfg.custom_hooks) + [
            dict(type='InterCLRMemoryHook', batch_size=16, interval=1,
                 backend='torch')
        ]
        return cfg

    straight = train(interclr_config(str(tmp_path / 'straight')))
    expected = model_state(straight)
    assert bool(expected['memory.initialized'])
    counts = torch.bincount(expected['memory.labels'], minlength=4)
    assert counts.min() >= 2
    work = str(tmp_path / 'resumed')
    train(interclr_config(work), interrupt=True)
    cfg = interclr_config(work)
    cfg.resume = True
    resumed = train(cfg)
    assert resumed.iter == 8
    assert_same_state(model_state(resumed), expected)
    assert 'train/clusters_empty' in resumed.message_hub.log_scalars


def test_interclr_offline_labels_are_reclustered_each_epoch(
        tmp_path, tiny_fashion_root):
    from helpers import tiny_base_cfg
    cfg = tiny_config(str(tmp_path), tiny_fashion_root)
    cfg.model = tiny_base_cfg('interclr', label_update='offline')
    cfg.custom_hooks = list(cfg.custom_hooks) + [
        dict(type='InterCLRMemoryHook', batch_size=16, backend='torch',
             offline_interval=1)
    ]
    runner = train(cfg)
    log = open(osp.join(str(tmp_path), runner.timestamp,
                        f'{runner.timestamp}.log')).read()
    assert log.count('offline re-clustering before epoch 2') == 1
    assert log.count('memory filled') == 2
