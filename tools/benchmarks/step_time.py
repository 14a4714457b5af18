"""Step time of BSIM-SimCLR against mmpretrain's SimCLR, as a ratio.

Both models get the same backbone, neck, batch and optimizer; each timed
step is a full ``train_step`` (data preprocessor incl. mixing, forward,
backward, SGD update). Steps of the two models alternate so that drift in
machine load hits both equally; the ratio of medians is reported.

    python tools/benchmarks/step_time.py --preset cpu-small
    python tools/benchmarks/step_time.py --preset r50-224 --device cuda

BSIM encodes one extra view (3 instead of 2), so ~1.5x is the floor.
"""
import argparse
import json
import statistics
import time

import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import bsim_plugin  # noqa: F401

PRESETS = {
    # A 16-wide CIFAR ResNet-18 (3x3 stem) on Fashion-MNIST-sized images.
    'cpu-small':
    dict(
        backbone=dict(
            type='ResNet_CIFAR', depth=18, in_channels=1, base_channels=16),
        neck_in=128,
        channels=1,
        size=28,
        batch=128),
    # The CPU recipe's backbone (quality protocol and demo): mmpretrain's
    # ResNet-18 with its ImageNet stem on 28x28 grey images.
    'cpu-r18':
    dict(
        backbone=dict(type='ResNet', depth=18, in_channels=1),
        neck_in=512,
        channels=1,
        size=28,
        batch=128),
    # The ImageNet configs' ResNet-50 at 224 px.
    'r50-224':
    dict(
        backbone=dict(type='ResNet', depth=50, zero_init_residual=True),
        neck_in=2048,
        channels=3,
        size=224,
        batch=64),
}


def build(kind, preset, device):
    neck = dict(
        type='NonLinearNeck',
        in_channels=preset['neck_in'],
        hid_channels=512,
        out_channels=128,
        num_layers=2,
        with_avg_pool=True,
        norm_cfg=dict(type='BN1d'))
    common = dict(backbone=preset['backbone'], neck=neck)
    if kind == 'simclr':
        cfg = dict(
            type='SimCLR',
            head=dict(
                type='ContrastiveHead',
                loss=dict(type='CrossEntropyLoss'),
                temperature=0.1),
            data_preprocessor=dict(type='SelfSupDataPreprocessor'),
            **common)
    else:
        cfg = dict(
            type='BSIMSimCLR',
            head=dict(type='SoftTargetContrastiveHead', temperature=0.1),
            data_preprocessor=dict(
                type='MixtureDataPreprocessor',
                mixer=dict(type='InstanceMixer', alpha=1.0)),
            **common)
    model = MODELS.build(cfg).to(device).train()
    optim = OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))
    return model, optim


def make_batch(preset, device):
    n, c, s = preset['batch'], preset['channels'], preset['size']
    views = [
        torch.randint(0, 255, (n, c, s, s), dtype=torch.uint8, device=device)
        for _ in range(2)
    ]
    return dict(inputs=views, data_samples=[DataSample() for _ in range(n)])


def timed_step(model, optim, preset, device):
    data = make_batch(preset, device)
    if device == 'cuda':
        torch.cuda.synchronize()
    start = time.perf_counter()
    model.train_step(data, optim)
    if device == 'cuda':
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--preset', choices=sorted(PRESETS),
                        default='cpu-small')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--batch', type=int, help='override the batch size')
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--json', help='also write the result here')
    args = parser.parse_args()
    init_default_scope('mmpretrain')
    preset = dict(PRESETS[args.preset])
    if args.batch:
        preset['batch'] = args.batch
    torch.manual_seed(0)
    models = {k: build(k, preset, args.device) for k in ('simclr', 'bsim')}
    times = {k: [] for k in models}
    total = args.warmup + args.steps
    for step in range(total):
        for kind, (model, optim) in models.items():
            t = timed_step(model, optim, preset, args.device)
            if step >= args.warmup:
                times[kind].append(t)
        print(f'step {step + 1}/{total}', end='\r', flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    result = dict(
        preset=args.preset,
        device=torch.cuda.get_device_name() if args.device == 'cuda' else
        f'cpu ({torch.get_num_threads()} threads)',
        batch=preset['batch'],
        steps=args.steps,
        simclr_median_s=round(med['simclr'], 4),
        bsim_simclr_median_s=round(med['bsim'], 4),
        ratio=round(med['bsim'] / med['simclr'], 3))
    print()
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
