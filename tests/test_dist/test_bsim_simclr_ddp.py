"""Two gloo processes on the CPU compute the same BSIM-SimCLR loss, and the
same gradients, as one process on the same global batch."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch.nn.parallel import DistributedDataParallel

from bsim_plugin.models.utils import attach_mix_info, mixup, pair_indices
from helpers import tiny_model_cfg

WORLD = 2
LOCAL_N = 4


def model_cfg():
    # GroupNorm: batch statistics would otherwise differ between one batch
    # of 8 and two of 4 (the configs use SyncBN for that on GPUs).
    return tiny_model_cfg(norm='GN', bsim_weight=1.0)


def global_batch():
    g = torch.Generator().manual_seed(7)
    n = WORLD * LOCAL_N
    v1 = torch.randn(n, 1, 12, 12, generator=g)
    v2 = torch.randn(n, 1, 12, 12, generator=g)
    lam = torch.rand(n, generator=g)
    return v1, v2, lam


def loss_and_grads(model, v1, v2, lam, partner, forward):
    samples = [DataSample() for _ in range(len(lam))]
    attach_mix_info(samples, lam, partner)
    inputs = [v1, v2, mixup(v1, v1, lam, partner)]
    losses = forward(inputs, samples, mode='loss')
    total = sum(losses.values())
    total.backward()
    grads = {
        name: p.grad.clone()
        for name, p in model.named_parameters() if p.grad is not None
    }
    return {k: v.detach() for k, v in losses.items()}, grads


def worker(rank, port, out_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=WORLD)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = MODELS.build(model_cfg())
    ddp = DistributedDataParallel(model)
    v1, v2, lam = global_batch()
    part = slice(rank * LOCAL_N, (rank + 1) * LOCAL_N)
    # Each process pairs inside its own batch, as the mixer does.
    losses, grads = loss_and_grads(model, v1[part], v2[part], lam[part],
                                   pair_indices(LOCAL_N, 'reverse'), ddp)
    # DDP averages gradients over processes.
    grads = {k: v * WORLD for k, v in grads.items()}
    torch.save((losses, grads), os.path.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_processes_match_one_process(tmp_path):
    mp.spawn(worker, args=(free_port(), str(tmp_path)), nprocs=WORLD)

    torch.manual_seed(0)
    model = MODELS.build(model_cfg())
    v1, v2, lam = global_batch()
    # The same pairs, in global indices: process r's partners offset by r*n.
    partner = torch.cat([
        pair_indices(LOCAL_N, 'reverse') + r * LOCAL_N for r in range(WORLD)
    ])
    ref_losses, ref_grads = loss_and_grads(model, v1, v2, lam, partner,
                                           model)
    assert set(ref_losses) == {'loss_sim', 'loss_bsim'}
    for rank in range(WORLD):
        losses, grads = torch.load(
            tmp_path / f'rank{rank}.pth', weights_only=True)
        for key in ref_losses:
            torch.testing.assert_close(
                losses[key], ref_losses[key], rtol=1e-5, atol=1e-6)
        assert grads.keys() == ref_grads.keys()
        for key in ref_grads:
            torch.testing.assert_close(
                grads[key], ref_grads[key], rtol=1e-4, atol=1e-6)
