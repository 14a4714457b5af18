"""Two gloo processes keep identical pseudo-label memories, equal to one
process given the same global batch: each process writes the gathered keys
of both, so no memory is ever broadcast. One process without any process
group works too."""
import os

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from bsim_plugin.models.memories import PseudoLabelMemory
from test_bsim_simclr_ddp import free_port

WORLD = 2


def memory_after_steps(idx_batches, key_batches, rank=None):
    torch.manual_seed(0)
    feats = F.normalize(torch.randn(40, 8), dim=1)
    labels = torch.arange(40) % 4
    memory = PseudoLabelMemory(40, 8, 4, momentum=0.5, min_cluster=3)
    memory.fill(feats, labels, torch.stack([feats[labels == c].mean(0)
                                            for c in range(4)]))
    for idx, keys in zip(idx_batches, key_batches):
        if rank is not None:  # this process's half of the global batch
            half = len(idx) // WORLD
            idx = idx[rank * half:(rank + 1) * half]
            keys = keys[rank * half:(rank + 1) * half]
        memory.update(idx, keys)
        memory.recompute_centroids()
        memory.dissolve_small_clusters()
    return memory.state_dict()


def steps():
    g = torch.Generator().manual_seed(3)
    idx = [torch.randperm(40, generator=g)[:8] for _ in range(3)]
    keys = [F.normalize(torch.randn(8, 8, generator=g), dim=1)
            for _ in range(3)]
    return idx, keys


def worker(rank, port, out_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=WORLD)
    state = memory_after_steps(*steps(), rank=rank)
    torch.save(state, os.path.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


def test_two_processes_keep_one_memory(tmp_path):
    mp.spawn(worker, args=(free_port(), str(tmp_path)), nprocs=WORLD)
    assert not dist.is_initialized()
    expected = memory_after_steps(*steps())  # no process group at all
    for rank in range(WORLD):
        state = torch.load(tmp_path / f'rank{rank}.pth', weights_only=True)
        for key in expected:
            assert torch.equal(state[key], expected[key]), (rank, key)
