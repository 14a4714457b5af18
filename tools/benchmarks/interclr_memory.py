"""Per-iteration cost of InterCLR's memory work against its floor.

    python tools/benchmarks/interclr_memory.py [--scale 1.0] [--device cpu] \
        [--strategies random hard semihard semieasy] [--iters 5] [--json F]

At ImageNet scale (``--scale 1``): a memory of 1,281,167 x 128 features with
10,000 clusters, batch 256, 16,384 negatives from a pool of 128,000. One
iteration is what InterCLR's inter branch adds to a MoCo v2 step besides the
encoder: the batch x memory similarities, the positive and the negatives
(:func:`sample_positives`, :func:`sample_negatives`), the logits and their
gradient (:func:`memory_logits`), the memory update with re-labelling, the
centroids (timed every iteration and counted once per 10, the
``centroid_interval``) and the small-cluster check. The floor is the part
no implementation avoids: the similarities and, for ``hard``, their
unsorted top-``K``, for ``semihard`` / ``semieasy`` their unsorted
top-``P``. ``--profile`` adds the time of each stage. Medians of
``--iters`` iterations after one warm-up; peak memory beside it (CUDA: peak
allocated; CPU: peak RSS of the process). ``--scale`` shrinks the memory,
clusters, negatives and pool together (the batch stays 256).
"""
import argparse
import contextlib
import json
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from bsim_plugin.models.memories import (STRATEGIES, PseudoLabelMemory,
                                         label_index, memory_logits,
                                         sample_negatives, sample_positives)

FULL = dict(length=1281167, feat_dim=128, clusters=10000, batch=256,
            negatives=16384, pool=128000, centroid_interval=10,
            min_cluster=20)


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def setting(scale: float) -> dict:
    s = dict(FULL)
    for key in ('length', 'clusters', 'negatives', 'pool'):
        s[key] = max(1, int(round(FULL[key] * scale)))
    s['min_cluster'] = min(FULL['min_cluster'],
                           max(1, s['length'] // (4 * s['clusters'])))
    return s


def build_memory(s: dict, device: str) -> PseudoLabelMemory:
    g = torch.Generator().manual_seed(0)
    memory = PseudoLabelMemory(s['length'], s['feat_dim'], s['clusters'],
                               min_cluster=s['min_cluster']).to(device)
    feats = F.normalize(torch.randn(s['length'], s['feat_dim'],
                                    generator=g), dim=1)
    # Balanced random labels stand in for k-means' (timing, not quality).
    labels = torch.randperm(s['length'], generator=g) % s['clusters']
    memory.fill(feats.to(device), labels.to(device),
                torch.zeros(s['clusters'], s['feat_dim'], device=device))
    memory.recompute_centroids()
    return memory


@torch.no_grad()
def floor_step(memory, q, s, strategy):
    sims = q @ memory.feats.t()
    # Unsorted: finding the pool needs no order (a sorted top-P costs
    # about three times as much on the CPU).
    if strategy == 'hard':
        sims.topk(s['negatives'], dim=1, sorted=False)
    elif strategy == 'semihard':
        sims.topk(s['pool'], dim=1, sorted=False)
    elif strategy == 'semieasy':
        sims.topk(s['pool'], dim=1, largest=False, sorted=False)
    return sims


class Stages:
    """Per-stage wall times of each :func:`full_step` (``--profile``)."""

    def __init__(self, device, enabled):
        self.device, self.enabled, self.iterations = device, enabled, []

    @contextlib.contextmanager
    def __call__(self, name):
        if not self.enabled:
            yield
            return
        sync(self.device)
        start = time.perf_counter()
        yield
        sync(self.device)
        this = self.iterations[-1]
        this[name] = this.get(name, 0.0) + time.perf_counter() - start

    def summary(self):
        """Median per stage over the timed iterations (the first is the
        warm-up)."""
        timed = self.iterations[1:]
        out = {}
        for name in timed[0]:
            out[name] = round(statistics.median(
                [it.get(name, 0.0) for it in timed]), 4)
        return out


def full_step(memory, q, s, strategy, idx, stage):
    """One iteration's memory work; returns the seconds of the centroid
    update, which the caller counts once per ``centroid_interval``."""
    with stage('similarities'), torch.no_grad():
        sims = q @ memory.feats.t()
    with stage('label index + positives'):
        labels = memory.labels[idx]
        index = label_index(memory.labels, s['clusters'])
        pos = sample_positives(labels, memory.labels, index=index)
    with stage('negatives'):
        neg = sample_negatives(sims, labels, memory.labels, s['negatives'],
                               strategy, pool=s['pool'], index=index)
    # The logits and their gradient, as InterCLRMoCo forms them.
    with stage('logits + gradient'):
        q = q.detach().requires_grad_()
        logits = memory_logits(q, sims, torch.cat([pos[:, None], neg], 1),
                               memory.feats, idx, memory.feats[idx].clone())
    with stage('memory update + re-label'):
        memory.update(idx, q.detach())
    with stage('logits + gradient'):
        logits.sum().backward()
    with stage('small clusters'):
        memory.dissolve_small_clusters()
    # Every centroid_interval iterations: timed apart and amortised, so
    # that each timed iteration carries its share.
    sync(stage.device)
    start = time.perf_counter()
    memory.recompute_centroids()
    sync(stage.device)
    seconds = time.perf_counter() - start
    if stage.enabled:
        stage.iterations[-1]['centroids (amortised)'] = (
            seconds / s['centroid_interval'])
    return seconds


def peak_mib(device):
    if device.startswith('cuda'):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--scale', type=float, default=1.0)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--strategies', nargs='+', choices=STRATEGIES,
                        default=list(STRATEGIES))
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--json', help='also write the result here')
    parser.add_argument('--profile', action='store_true',
                        help='also time the stages of each iteration')
    args = parser.parse_args(argv)
    s = setting(args.scale)
    print(f'[interclr_memory] memory {s["length"]} x {s["feat_dim"]}, '
          f'{s["clusters"]} clusters, batch {s["batch"]}, '
          f'{s["negatives"]} negatives, pool {s["pool"]}, {args.device}',
          flush=True)
    memory = build_memory(s, args.device)
    g = torch.Generator().manual_seed(1)
    rows = []
    for strategy in args.strategies:
        times = dict(floor=[], total=[])
        stage = Stages(args.device, args.profile)
        for it in range(args.iters + 1):
            q = F.normalize(torch.randn(s['batch'], s['feat_dim'],
                                        generator=g), dim=1).to(args.device)
            idx = torch.randperm(s['length'], generator=g)[:s['batch']].to(
                args.device)
            stage.iterations.append({})
            for kind, step in (('floor', lambda: floor_step(
                    memory, q, s, strategy)), ('total', lambda: full_step(
                        memory, q, s, strategy, idx, stage))):
                sync(args.device)
                start = time.perf_counter()
                out = step()
                centroids = out if kind == 'total' else 0.0
                # The floor's similarities are dropped at once: kept alive
                # through the next step they cost it about a second here.
                del out
                sync(args.device)
                elapsed = time.perf_counter() - start
                elapsed -= centroids * (1 - 1 / s['centroid_interval'])
                if it > 0:
                    times[kind].append(elapsed)
        floor_s = statistics.median(times['floor'])
        total_s = statistics.median(times['total'])
        row = dict(strategy=strategy, floor_s=round(floor_s, 4),
                   total_s=round(total_s, 4),
                   ratio=round(total_s / floor_s, 3))
        print(f'{strategy:9s} floor {floor_s:.3f} s  total {total_s:.3f} s '
              f' ratio {total_s / floor_s:.2f}', flush=True)
        if args.profile:
            row['stages_s'] = stage.summary()
            for name, value in row['stages_s'].items():
                print(f'    {name:28s} {value:.3f} s', flush=True)
        rows.append(row)
    result = dict(setting=s, device=args.device if args.device == 'cpu'
                  else torch.cuda.get_device_name(),
                  threads=torch.get_num_threads(), iters=args.iters,
                  torch=torch.__version__, date=time.strftime('%Y-%m-%d'),
                  peak_mib=round(peak_mib(args.device)), rows=rows)
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    sys.exit(main() and 0)
