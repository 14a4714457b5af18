"""Detection smoke: a pre-trained backbone against random initialisation.

Several seeds each, the same iterations, with mmdet's own train script, VOC
dataset and VOC metric:

    python tools/benchmarks/mmdetection/make_fashion_detection.py \
        data/fashion_det
    python tools/benchmarks/mmdetection/detection_smoke.py BACKBONE \
        [--arms pretrained random] [--seeds 0 1 2] [--iters 300] \
        [--scale 224] [--rois 64] [--batch-size 4] [--workers 2] \
        [--data-root data/fashion_det/] \
        [--work-dir work_dirs/detection_smoke] \
        [--results tools/benchmarks/results/detection_smoke.jsonl] \
        [--readme README.md]

BACKBONE is a pre-training checkpoint or an exported backbone (the CPU
recipe's grey ResNet-18). Arms:

- ``pretrained``: the config's ``pretrained_prefixes`` (the Fashion smoke
  config: res2-res4 from BACKBONE, res5 from mmdet's initialisation);
- ``pretrained-res5``: res2-res4 and res5 from BACKBONE (the import that
  gave 17.4 % mAP in the first smoke run);
- ``random``: everything from mmdet's initialisation.

Each run is mmdet's tools/train.py on a config written into
``WORK_DIR/ARM_seedS/`` (seed in ``randomness``); its VOC07 mAP@0.5 on the
test split (evaluated once, after the last iteration) is appended to the
results file, one JSON line per run. Runs already in the results file with
the same settings and backbone are skipped, so an interrupted comparison
continues where it stopped. Sizing: ``--iters`` (the schedule's warm-up
and step scale with it), ``--scale`` (the resize of the 112 px canvases:
224 doubles them, 112 keeps them; the backbone's cost grows with the square)
and ``--rois`` (RoIs sampled per image for the C4 head, which runs res5 on
every one). Afterwards (or with ``--report-only``) it prints mean, standard
deviation and every run per arm, and with ``--readme`` writes the README
block ``detection-smoke`` (between ``<!-- detection-smoke:begin
(tools/benchmarks/quality.py report) -->`` and ``<!-- detection-smoke:end
-->``): every set of settings in the results file, rendered by the one
writer of the README's generated blocks
(``tools/benchmarks/quality_tool/figures_detection.py``), as
``tools/benchmarks/quality.py report`` writes it.
"""
import argparse
import datetime
import glob
import hashlib
import json
import os
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
BENCHMARKS = osp.join(ROOT, 'tools', 'benchmarks')
if BENCHMARKS not in sys.path:
    sys.path.insert(0, BENCHMARKS)

# The one writer of the README's generated blocks renders the results.
from quality_tool.figures_detection import (ARMS, SETTINGS,  # noqa: E402
                                            SMOKE_FILE, fill_smoke)
from quality_tool.figures_detection import smoke_report as report  # noqa

CONFIG = osp.join(ROOT, 'configs', 'benchmarks', 'mmdetection', 'fashion',
                  'faster-rcnn_r18-c4_300it_fashion-voc.py')
RESULTS = osp.join(BENCHMARKS, 'results', SMOKE_FILE)


def sha256(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def arm_prefixes(cfg, arm: str) -> dict:
    """The ``pretrained_prefixes`` option of an arm."""
    option = {k: list(v) for k, v in cfg.pretrained_prefixes.items()}
    if arm == 'random':
        return {part: [] for part in option}
    if arm == 'pretrained-res5':
        option['roi_head'] = ['layer4.']
    return option


def metric_key(cfg) -> str:
    evaluator = cfg.val_evaluator
    if isinstance(evaluator, (list, tuple)):
        evaluator = evaluator[0]
    if evaluator['type'].endswith('VOCMetric'):
        return 'pascal_voc/mAP'
    return 'coco/bbox_mAP_50'


def run_config(args, arm: str, seed: int, work_dir: str):
    """The smoke config set up for one run."""
    from mmengine.config import Config

    from bsim_plugin.utils.transfer import apply_pretrained_prefixes
    cfg = Config.fromfile(args.config)
    cfg.pretrained_prefixes = arm_prefixes(cfg, arm)
    apply_pretrained_prefixes(cfg, osp.abspath(args.backbone))
    cfg.randomness = dict(seed=seed)
    iters = args.iters
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = iters
    warmup = max(1, min(50, iters // 6))
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
             end=warmup),
        dict(type='MultiStepLR', begin=0, end=iters, by_epoch=False,
             milestones=[max(1, int(iters * 0.8))], gamma=0.1),
    ]
    cfg.default_hooks.checkpoint.interval = iters
    cfg.default_hooks.logger.interval = max(1, min(25, iters))
    cfg.model.train_cfg.rcnn.sampler.num = args.rois
    data_root = osp.abspath(args.data_root) + '/'
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[key]
        loader.num_workers = args.workers
        loader.persistent_workers = args.workers > 0
        loader.dataset.data_root = data_root
        for step in loader.dataset.pipeline:
            if step['type'] == 'Resize':
                step['scale'] = (args.scale, args.scale)
    cfg.train_dataloader.batch_size = args.batch_size
    for key in ('val_evaluator', 'test_evaluator'):
        if 'ann_file' in cfg[key]:
            cfg[key].ann_file = osp.join(data_root, 'annotations',
                                         'instances_test.json')
    cfg.work_dir = work_dir
    return cfg


def read_metric(work_dir: str, key: str):
    """The last value of ``key`` in the run's scalars (mmengine's
    ``vis_data/scalars.json``)."""
    value = None
    paths = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                      'scalars.json')))
    for path in paths:
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                if key in record:
                    value = record[key]
    return value


def load_results(path: str) -> list:
    if not osp.isfile(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def mmdet_train_script() -> str:
    import mmdet
    return osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', 'train.py')


def run_one(args, arm, seed, settings):
    work_dir = osp.abspath(osp.join(args.work_dir, f'{arm}_seed{seed}'))
    os.makedirs(work_dir, exist_ok=True)
    cfg = run_config(args, arm, seed, work_dir)
    cfg_path = osp.join(work_dir, osp.basename(args.config))
    cfg.dump(cfg_path)
    key = metric_key(cfg)
    command = [sys.executable, mmdet_train_script(), cfg_path,
               '--work-dir', work_dir]
    print(f'[{arm} seed {seed}] ' + ' '.join(command), flush=True)
    if args.dry_run:
        return None
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (ROOT, env.get('PYTHONPATH')) if p)
    log_path = osp.join(work_dir, 'train.log')
    start = time.perf_counter()
    with open(log_path, 'w') as log:
        proc = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT,
                              env=env)
    wall = time.perf_counter() - start
    value = read_metric(work_dir, key)
    if proc.returncode != 0 or value is None:
        with open(log_path) as f:
            tail = f.read()[-3000:]
        sys.exit(f'error: {arm} seed {seed} failed (exit {proc.returncode}, '
                 f'{key}: {value}); log {log_path}:\n{tail}')
    result = dict(settings, arm=arm, seed=seed, metric=key,
                  map50=round(100 * float(value), 2),
                  wall_s=round(wall, 1), work_dir=work_dir,
                  date=datetime.date.today().isoformat(),
                  cpus=os.cpu_count())
    os.makedirs(osp.dirname(osp.abspath(args.results)), exist_ok=True)
    with open(args.results, 'a') as f:
        f.write(json.dumps(result) + '\n')
    print(f'[{arm} seed {seed}] {key} {result["map50"]:.2f} % '
          f'({wall / 60:.1f} min)', flush=True)
    return result


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('backbone', help='pre-training checkpoint or '
                        'exported backbone')
    parser.add_argument('--config', default=CONFIG,
                        help='a transfer config with pretrained_prefixes '
                        '(default: the Fashion VOC smoke config)')
    parser.add_argument('--data-root', default='data/fashion_det/',
                        help='the detection set of make_fashion_detection.py')
    parser.add_argument('--arms', nargs='+', choices=ARMS,
                        default=['pretrained', 'random'],
                        help='what to compare (default: pretrained random)')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2],
                        help='randomness.seed of the runs (default 0 1 2)')
    parser.add_argument('--iters', type=int, default=300,
                        help='training iterations per run (default 300)')
    parser.add_argument('--scale', type=int, default=224,
                        help='resize of the canvases (the config: 224)')
    parser.add_argument('--rois', type=int, default=64,
                        help='RoIs sampled per image (the config: 64)')
    parser.add_argument('--batch-size', type=int, default=4,
                        help='training images per iteration (default 4)')
    parser.add_argument('--workers', type=int, default=2,
                        help='data loader processes (default 2)')
    parser.add_argument('--work-dir', default='work_dirs/detection_smoke',
                        help='one folder per run below it')
    parser.add_argument('--results', default=RESULTS,
                        help='the results file, one JSON line per run')
    parser.add_argument('--readme', help="write this file's "
                        'detection-smoke block from the results file (every '
                        'set of settings in it)')
    parser.add_argument('--force', action='store_true',
                        help='run again the runs already in the results')
    parser.add_argument('--report-only', action='store_true')
    parser.add_argument('--dry-run', action='store_true',
                        help='write the configs and print the commands')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.backbone):
        sys.exit(f'error: backbone checkpoint not found: {args.backbone}')
    for name in ('iters', 'scale', 'rois', 'batch_size'):
        if getattr(args, name) < 1:
            sys.exit(f'error: --{name.replace("_", "-")} must be >= 1')
    if not args.report_only and not args.dry_run and not osp.isdir(
            osp.join(args.data_root, 'voc')):
        sys.exit(f'error: no detection set in {args.data_root}: run '
                 'tools/benchmarks/mmdetection/make_fashion_detection.py '
                 f'{args.data_root}')
    import bsim_plugin  # noqa: F401  (StrictPretrained, the hooks)
    settings = dict(
        config=osp.relpath(osp.abspath(args.config), ROOT),
        backbone_sha256=sha256(args.backbone), iters=args.iters,
        scale=args.scale, rois=args.rois, batch_size=args.batch_size)
    if not args.report_only:
        done = {(r['arm'], r['seed']) for r in load_results(args.results)
                if all(r.get(k) == settings[k] for k in SETTINGS)}
        for seed in args.seeds:
            for arm in args.arms:
                if (arm, seed) in done and not args.force:
                    print(f'[{arm} seed {seed}] in {args.results}: skipped')
                    continue
                run_one(args, arm, seed, settings)
    if args.dry_run:
        return ''
    text = report(load_results(args.results), settings)
    print(text or 'no results for these settings yet')
    if args.readme:
        try:
            fill_smoke(args.readme, args.results)
        except (OSError, ValueError) as e:
            sys.exit(f'error: {e}')
        print(f'wrote the detection-smoke block of {args.readme}')
    return text


if __name__ == '__main__':
    main()
