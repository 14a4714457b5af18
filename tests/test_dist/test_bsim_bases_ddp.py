"""Two gloo processes on the CPU train BSIM-MoCo (the queue), BSIM-BYOL
(the target network) and SANE (the gathered key set, refined labels and
momentum mixup) exactly as one process on the same global batch: the mean
of the per-process losses, the DDP-averaged gradients, the queue and the
target network after the step."""
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.logging import MessageHub
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch.nn.parallel import DistributedDataParallel

from bsim_plugin.models.utils import attach_mix_info, mixup, pair_indices
from helpers import tiny_base_cfg
from test_bsim_simclr_ddp import free_port

WORLD = 2
LOCAL_N = 4


def build(kind):
    MessageHub.get_current_instance().update_info('max_iters', 10)
    torch.manual_seed(0)
    # GroupNorm: independent of how the batch is split (and of MoCo's
    # batch shuffle); the configs use SyncBN on GPUs.
    extra = dict(queue_len=16) if kind in ('moco', 'sane') else {}
    if kind == 'sane':
        extra.update(mu_start=1.0, mu_end=1.0)
    model = MODELS.build(tiny_base_cfg(kind, norm='GN', **extra))
    model.train_progress = (0, 10)  # read by SANE only
    return model


def global_batch():
    g = torch.Generator().manual_seed(7)
    n = WORLD * LOCAL_N
    v1 = torch.randn(n, 1, 12, 12, generator=g)
    v2 = torch.randn(n, 1, 12, 12, generator=g)
    lam = torch.rand(n, generator=g)
    return v1, v2, lam


def step(model, forward, v1, v2, lam, partner):
    samples = [DataSample() for _ in range(len(lam))]
    attach_mix_info(samples, lam, partner)
    # SANE mixes the query view with the partner's key view.
    source = v2 if type(model).__name__ == 'SANE' else v1
    losses = forward([v1, v2, mixup(v1, source, lam, partner)], samples,
                     mode='loss')
    losses = {k: v for k, v in losses.items() if k.startswith('loss')}
    return step_result(model, losses)


def step_result(model, losses):
    """Back-propagate the summed losses; return the losses, the gradients
    and the state (buffers included) after it."""
    sum(losses.values()).backward()
    grads = {
        name: p.grad.clone()
        for name, p in model.named_parameters() if p.grad is not None
    }
    state = {k: v.clone() for k, v in model.state_dict().items()}
    return {k: v.detach() for k, v in losses.items()}, grads, state


def assert_processes_match(out_dir, ref_losses, ref_grads, ref_state):
    """Each process's saved step against one process on the global batch:
    the mean of the per-process losses (each the mean over its half), the
    DDP-averaged gradients and the state after the step."""
    ranks = [
        torch.load(os.path.join(out_dir, f'rank{r}.pth'), weights_only=True)
        for r in range(WORLD)
    ]
    for key in ref_losses:
        mean = sum(losses[key] for losses, _, _ in ranks) / WORLD
        torch.testing.assert_close(mean, ref_losses[key], rtol=1e-5,
                                   atol=1e-6)
    for _, grads, state in ranks:
        assert grads.keys() == ref_grads.keys()
        for key in ref_grads:
            torch.testing.assert_close(
                grads[key], ref_grads[key], rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(state, ref_state, rtol=1e-5, atol=1e-6)


def worker(rank, port, out_dir, kind):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=WORLD)
    torch.set_num_threads(1)
    model = build(kind)
    v1, v2, lam = global_batch()
    part = slice(rank * LOCAL_N, (rank + 1) * LOCAL_N)
    result = step(model, DistributedDataParallel(model), v1[part], v2[part],
                  lam[part], pair_indices(LOCAL_N, 'reverse'))
    torch.save(result, os.path.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


@pytest.mark.parametrize('kind', ['moco', 'byol', 'sane'])
def test_two_processes_match_one_process(kind, tmp_path):
    mp.spawn(worker, args=(free_port(), str(tmp_path), kind), nprocs=WORLD)

    model = build(kind)
    v1, v2, lam = global_batch()
    partner = torch.cat([
        pair_indices(LOCAL_N, 'reverse') + r * LOCAL_N for r in range(WORLD)
    ])
    ref_losses, ref_grads, ref_state = step(model, model, v1, v2, lam,
                                            partner)
    assert set(ref_losses) == ({'loss_sim', 'loss_mm'} if kind == 'sane'
                               else {'loss_sim', 'loss_bsim'})
    # The queue (all keys, in global order) and the EMA encoders are in
    # the state.
    assert_processes_match(str(tmp_path), ref_losses, ref_grads, ref_state)
