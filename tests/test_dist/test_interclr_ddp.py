"""Two gloo processes train InterCLR (MoCo v2 + memory) exactly as one
process on the same global batch: the mean of the per-process losses of
both branches, the DDP-averaged gradients, and after the step the queue,
the momentum encoder and the whole memory (features, labels, centroids).

Each memory entry is its own pseudo-class and the negatives are the
hardest, so nothing is drawn at random: the positive of a query is its own
memory entry and its negatives the most similar other entries."""
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch.nn.parallel import DistributedDataParallel

from helpers import tiny_base_cfg, tiny_neck
from test_bsim_bases_ddp import assert_processes_match, step_result
from test_bsim_simclr_ddp import free_port

WORLD = 2
LOCAL_N = 4
LENGTH = 32


def build(separate_neck):
    torch.manual_seed(0)
    extra = dict(inter_neck=tiny_neck(norm='GN')) if separate_neck else {}
    model = MODELS.build(
        tiny_base_cfg(
            'interclr', norm='GN', negative_strategy='hard',
            num_negatives=8, centroid_interval=1,
            memory=dict(length=LENGTH, num_clusters=LENGTH, min_cluster=1,
                        momentum=0.5), **extra))
    g = torch.Generator().manual_seed(1)
    feats = F.normalize(torch.randn(LENGTH, 16, generator=g), dim=1)
    model.memory.fill(feats, torch.arange(LENGTH), feats.clone())
    model.train_progress = (0, None)  # no runner: iteration 0
    return model


def global_batch():
    g = torch.Generator().manual_seed(7)
    n = WORLD * LOCAL_N
    v1 = torch.randn(n, 1, 12, 12, generator=g)
    v2 = torch.randn(n, 1, 12, 12, generator=g)
    idx = torch.randperm(LENGTH, generator=g)[:n]
    return v1, v2, idx


def step(model, forward, v1, v2, idx):
    samples = [DataSample(metainfo=dict(sample_idx=int(i))) for i in idx]
    return step_result(model, forward([v1, v2], samples, mode='loss'))


def worker(rank, port, out_dir, separate_neck):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=WORLD)
    torch.set_num_threads(1)
    model = build(separate_neck)
    v1, v2, idx = global_batch()
    part = slice(rank * LOCAL_N, (rank + 1) * LOCAL_N)
    result = step(model, DistributedDataParallel(model), v1[part], v2[part],
                  idx[part])
    torch.save(result, os.path.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


@pytest.mark.parametrize('separate_neck', [False, True],
                         ids=['shared-neck', 'separate-neck'])
def test_two_processes_match_one_process(separate_neck, tmp_path):
    mp.spawn(worker, args=(free_port(), str(tmp_path), separate_neck),
             nprocs=WORLD)
    model = build(separate_neck)
    before = model.memory.feats.clone()
    ref_losses, ref_grads, ref_state = step(model, model, *global_batch())
    assert set(ref_losses) == {'loss_intra', 'loss_inter'}
    # The step wrote all 8 entries of the global batch.
    _, _, idx = global_batch()
    assert not torch.allclose(ref_state['memory.feats'][idx], before[idx])
    # The state: queue, momentum encoder and the memory (features, labels,
    # centroids; integer tensors compare exactly).
    assert_processes_match(str(tmp_path), ref_losses, ref_grads, ref_state)
