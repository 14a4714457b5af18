"""Step time of each method against its mmpretrain base, as ratios.

For every pair (BSIM on SimCLR, MoCo v2, BYOL, SimSiam; SANE on MoCo v2)
both models are built from the shipped CPU-recipe configs
(``configs/{bsim,sane}/*_fashion-mnist-cpu.py``: the base is the BSIM class
with ``bsim_weight=0``, whose loss equals mmpretrain's base class exactly)
with the preset's backbone, batch and image size. Each timed step is a full
``train_step`` (data preprocessor incl. mixing, forward, backward, SGD
update). Steps of all models alternate so
that drift in machine load hits all equally; ratios of medians are reported.
Peak memory beside it: on CUDA ``max_memory_allocated`` of each model's own
steps; on the CPU the peak resident memory of a separate process running
that model's steps (growth of the peak RSS, ``VmHWM``, over the RSS before
its first step: activations, gradients and optimizer state, not the
libraries).

    python tools/benchmarks/step_time.py --preset cpu-r18 --batch 64
    python tools/benchmarks/step_time.py --preset r50-224 --batch 16 --steps 6
    python tools/benchmarks/step_time.py --preset r50-224 --device cuda

BSIM encodes one more view with gradient: SimCLR and SimSiam encode 2 views
with gradient, so ~1.5x is their floor; BYOL adds two target (forward-only)
passes and MoCo v2 has one view with gradient plus one key pass, so their
floors differ (README, "Step time"). SANE's momentum mixup encodes one more
query with gradient, as BSIM on MoCo v2 does.
"""
import argparse
import json
import os.path as osp
import statistics
import subprocess
import sys
import time

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import bsim_plugin  # noqa: F401
from bsim_plugin.apis import silence_pkg_resources_warning

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs',
                  '{}_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py')
# pair: (base, method), config names under configs/.
PAIRS = {
    'simclr': ('bsim/simclr', 'bsim/bsim-simclr'),
    'mocov2': ('bsim/mocov2', 'bsim/bsim-mocov2'),
    'byol': ('bsim/byol', 'bsim/bsim-byol'),
    'simsiam': ('bsim/simsiam', 'bsim/bsim-simsiam'),
    'sane': ('bsim/mocov2', 'sane/sane'),
}

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
    # ResNet-18 with its ImageNet stem on 28x28 grey images, its one-pixel
    # convolutions as matrix products (SinglePixelConv2d).
    'cpu-r18':
    dict(
        backbone=dict(
            type='ResNet',
            depth=18,
            in_channels=1,
            conv_cfg=dict(type='SinglePixelConv2d')),
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


def model_cfg(pair: str, method: bool, preset: dict) -> dict:
    """The recipe's model for ``pair`` (its method or its base) with the
    preset's backbone."""
    cfg = Config.fromfile(CONFIG.format(PAIRS[pair][int(method)]))
    model = cfg.model.to_dict()
    model['backbone'] = dict(preset['backbone'])
    model['neck']['in_channels'] = preset['neck_in']
    pre = cfg.data_preprocessor.to_dict()
    pre.update(mean=[127.5] * preset['channels'],
               std=[64.0] * preset['channels'])
    model['data_preprocessor'] = pre
    if model['type'] in ('BSIMMoCo', 'SANE'):
        model['queue_len'] = 64 * preset['batch']
    return model


def build(pair, method, preset, device):
    model = MODELS.build(model_cfg(pair, method, preset)).to(device).train()
    # No runner: a fixed schedule position for SANE's ramp (what
    # TrainProgressHook would set).
    model.train_progress = (0, 1000)
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
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    start = time.perf_counter()
    model.train_step(data, optim)
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    return time.perf_counter() - start


# Encoder passes per step, in units of F(b) = forward + backward of b images
# through backbone + neck and K(b) = forward without gradient:
# (base, extra for the method). SimCLR encodes its two views as one batch
# of 2n.
PASSES = {
    'simclr': ([('F', 2)], [('F', 1)]),
    'mocov2': ([('F', 1), ('K', 1)], [('F', 1)]),
    'byol': ([('F', 1), ('F', 1), ('K', 1), ('K', 1)], [('F', 1)]),
    'simsiam': ([('F', 1), ('F', 1)], [('F', 1)]),
    'sane': ([('F', 1), ('K', 1)], [('F', 1)]),
}


def pass_costs(preset, device, steps):
    """Median seconds of F(n), F(2n) and K(n) for the preset's encoder."""
    model, _ = build('simsiam', False, preset, device)
    encoder = torch.nn.Sequential(model.backbone, model.neck)
    n, c, s = preset['batch'], preset['channels'], preset['size']

    def run(kind, mult):
        x = torch.randn(n * mult, c, s, s, device=device)
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        start = time.perf_counter()
        if kind == 'F':
            encoder(x)[0].sum().backward()
        else:
            with torch.no_grad():
                encoder(x)
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        return time.perf_counter() - start

    costs = {}
    for key in (('F', 1), ('F', 2), ('K', 1)):
        times = [run(*key) for _ in range(steps + 2)][2:]
        costs[key] = statistics.median(times)
    return costs


def floors(costs):
    """Step-time ratio each pair would have if only encoder passes cost."""
    out = {}
    for pair, (base, extra) in PASSES.items():
        b = sum(costs[p] for p in base)
        out[pair] = round((b + sum(costs[p] for p in extra)) / b, 3)
    return out


def setup(preset_name, batch, steps):
    init_default_scope('mmpretrain')
    from mmengine.logging import MessageHub

    # BYOL's cosine EMA reads the schedule length.
    MessageHub.get_current_instance().update_info('max_iters', 1000)
    preset = dict(PRESETS[preset_name])
    if batch:
        preset['batch'] = batch
    return preset


def cpu_peak_mib(args, pair, method):
    """Peak RSS of a fresh process running this model's steps."""
    cmd = [
        sys.executable, __file__, '--preset', args.preset, '--pairs', pair,
        '--steps', '2', '--warmup', '1', '--memory-child',
        'method' if method else 'base'
    ]
    if args.batch:
        cmd += ['--batch', str(args.batch)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def memory_child(args):
    preset = setup(args.preset, args.batch, args.steps)
    torch.manual_seed(0)
    model, optim = build(args.pairs[0], args.memory_child == 'method', preset,
                         'cpu')
    data = make_batch(preset, 'cpu')
    # Reset the process's peak RSS (VmHWM) to its current RSS, which holds
    # the interpreter, the libraries, the model and the batch; the growth of
    # the peak over it is what the steps need.
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')
    before = proc_status_kib('VmRSS')
    for _ in range(args.warmup + args.steps):
        model.train_step(dict(data), optim)
    print((proc_status_kib('VmHWM') - before) / 1024)


def proc_status_kib(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError(f'no {field} in /proc/self/status')


def main():
    silence_pkg_resources_warning()
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--preset', choices=sorted(PRESETS),
                        default='cpu-r18')
    parser.add_argument('--pairs', nargs='+', choices=list(PAIRS),
                        default=list(PAIRS))
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--batch', type=int, help='override the batch size')
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--no-memory', action='store_true',
                        help='skip the peak-memory measurement')
    parser.add_argument('--floors', action='store_true',
                        help='also time the encoder passes alone and print '
                        'the ratio each pair would have from them')
    parser.add_argument('--json', help='also write the result here')
    parser.add_argument('--memory-child', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        return memory_child(args)
    preset = setup(args.preset, args.batch, args.steps)
    models = {}
    for pair in args.pairs:
        for method in (False, True):
            torch.manual_seed(0)
            models[(pair, method)] = build(pair, method, preset, args.device)
    times = {k: [] for k in models}
    peak = {}
    total = args.warmup + args.steps
    for step in range(total):
        for key, (model, optim) in models.items():
            if args.device.startswith('cuda'):
                torch.cuda.reset_peak_memory_stats()
            t = timed_step(model, optim, preset, args.device)
            if args.device.startswith('cuda'):
                peak[key] = max(peak.get(key, 0),
                                torch.cuda.max_memory_allocated() / 2**20)
            if step >= args.warmup:
                times[key].append(t)
        print(f'step {step + 1}/{total}', end='\r', flush=True,
              file=sys.stderr)
    print(file=sys.stderr)
    if args.device == 'cpu' and not args.no_memory:
        for pair, method in models:
            print(f'peak memory: {pair} {"method" if method else "base"}',
                  file=sys.stderr)
            peak[(pair, method)] = cpu_peak_mib(args, pair, method)
    device = (torch.cuda.get_device_name() if args.device.startswith('cuda')
              else f'cpu ({torch.get_num_threads()} threads)')
    rows = []
    for pair in args.pairs:
        base_t = statistics.median(times[(pair, False)])
        method_t = statistics.median(times[(pair, True)])
        row = dict(
            pair=pair,
            base=PAIRS[pair][0],
            method=PAIRS[pair][1],
            base_median_s=round(base_t, 4),
            method_median_s=round(method_t, 4),
            ratio=round(method_t / base_t, 3))
        if peak:
            row.update(
                base_peak_mib=round(peak[(pair, False)]),
                method_peak_mib=round(peak[(pair, True)]),
                memory_ratio=round(
                    peak[(pair, True)] / max(peak[(pair, False)], 1e-9), 3))
        rows.append(row)
        print(f'{pair:8s} base {base_t:.4f} s  method {method_t:.4f} s  '
              f'ratio {method_t / base_t:.3f}' +
              (f'  peak {row["base_peak_mib"]} / {row["method_peak_mib"]} MiB'
               if peak else ''))
    extra = {}
    if args.floors:
        costs = pass_costs(preset, args.device, args.steps)
        extra = dict(
            pass_s={f'{k}({m}n)' if m > 1 else f'{k}(n)': round(v, 4)
                    for (k, m), v in costs.items()},
            floor=floors(costs))
        print('encoder passes:', extra['pass_s'])
        print('ratio from encoder passes alone:', extra['floor'])
    result = dict(
        preset=args.preset,
        device=device,
        batch=preset['batch'],
        image_size=preset['size'],
        steps=args.steps,
        torch=torch.__version__,
        date=time.strftime('%Y-%m-%d'),
        pairs=rows,
        **extra)
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
