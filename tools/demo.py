"""Demo: pre-train BSIM-SimCLR on Fashion-MNIST on the CPU and show it learns.

    python tools/demo.py [--config CFG] [--work-dir DIR] [--cfg-options ...]

Runs mmengine's Runner on the demo config, evaluates weighted-kNN top-1 on
the Fashion-MNIST test split before training (random initialisation: the
bar to beat) and after every ``val_interval`` epochs, prints both figures
and writes ``curves.png`` (loss and kNN top-1 over training) and
``summary.json`` into the work dir.
"""
import argparse
import json
import os.path as osp
import sys
import time

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import bsim_plugin  # noqa: F401
from bsim_plugin.apis import (prepare_config_data,
                              silence_pkg_resources_warning)

DEFAULT_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs', 'bsim',
    'bsim-simclr_resnet18_1xb128-coslr-2e_fashion-mnist-demo.py')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value pairs')
    return parser.parse_args()


def read_scalars(work_dir: str, timestamp: str):
    """Training losses per iteration and kNN top-1 per evaluation."""
    path = osp.join(work_dir, timestamp, 'vis_data', 'scalars.json')
    losses, knn = [], []
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if 'knn/top1' in rec:
                knn.append((rec['step'], rec['knn/top1']))
            elif 'loss' in rec:
                losses.append((rec['step'], rec['loss']))
    return losses, knn


def pixel_references(runner, k: int, temperature: float) -> dict:
    """kNN top-1 on raw and centred pixels, same bank, queries, k and T."""
    import bsim_plugin.evaluation as ev
    dataset = runner.val_dataloader.dataset
    bank, bank_y = ev.load_image_arrays(dataset.datasets[0])
    query, query_y = ev.load_image_arrays(dataset.datasets[1])
    mean = bank.float().mean(0)
    return {
        name: ev.knn_top1(
            ev.pixel_embeddings(bank, m), bank_y,
            ev.pixel_embeddings(query, m), query_y, k, temperature)
        for name, m in (('raw pixels', None), ('centred pixels', mean))
    }


def plot(losses, knn, iters_per_epoch, out_path, title, references=None):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.plot([s / iters_per_epoch for s, _ in losses], [v for _, v in losses])
    ax1.set_xlabel('epoch')
    ax1.set_ylabel('training loss')
    ax1.grid(alpha=0.3)
    ax2.plot([s for s, _ in knn], [v for _, v in knn], 'o-')
    ax2.axhline(knn[0][1], color='grey', ls='--', label='random init')
    for (name, value), style in zip((references or {}).items(), (':', '-.')):
        ax2.axhline(value, color='#c44e52', ls=style,
                    label=f'{name}: {value:.1f}')
    ax2.set_xlabel('epoch')
    ax2.set_ylabel('kNN top-1 on test split (%)')
    ax2.legend()
    ax2.grid(alpha=0.3)
    fig.suptitle(f'{title} on Fashion-MNIST (CPU demo)')
    fig.tight_layout()
    fig.savefig(out_path, dpi=100)


def main():
    silence_pkg_resources_warning()
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir
    cfg.launcher = 'none'
    start = time.time()
    print('BSIM-SimCLR demo: pre-training on Fashion-MNIST on the CPU '
          f'({cfg.train_cfg.max_epochs} epochs of '
          f"{cfg.train_dataloader.dataset.get('indices', 60000)} images; "
          'about 7 minutes on 2 cores).', flush=True)
    prepare_config_data(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()
    elapsed = time.time() - start

    losses, knn = read_scalars(runner.work_dir, runner.timestamp)
    if len(knn) < 2:
        raise RuntimeError('expected kNN evaluations before and after '
                           f'training, found {len(knn)}')
    iters_per_epoch = len(runner.train_dataloader)
    curves = osp.join(runner.work_dir, 'curves.png')
    title = ('BSIM-SimCLR' if cfg.model.get('bsim_weight', 1.0) > 0 else
             'SimCLR')
    (_, init_acc), (last_epoch, final_acc) = knn[0], knn[-1]
    evaluator = cfg.val_evaluator
    references = pixel_references(runner, evaluator.get('k', 200),
                                  evaluator.get('temperature', 0.1))
    plot(losses, knn, iters_per_epoch, curves, title, references)
    summary = dict(
        knn_top1_random_init=init_acc,
        knn_top1_trained=final_acc,
        epochs=last_epoch,
        k=evaluator.get('k', 200),
        temperature=evaluator.get('temperature', 0.1),
        knn_top1_raw_pixels=references['raw pixels'],
        knn_top1_centred_pixels=references['centred pixels'],
        bank_size=runner.val_dataloader.dataset.num_bank,
        seconds=round(elapsed, 1),
        curves=curves)
    with open(osp.join(runner.work_dir, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    print('\n' + '=' * 64)
    print('Weighted kNN top-1 on the Fashion-MNIST test split '
          f"(k={summary['k']}, T={summary['temperature']}, "
          f"bank={summary['bank_size']} train images):")
    print(f'  random initialisation : {init_acc:6.2f} %')
    method = 'BSIM' if title == 'BSIM-SimCLR' else 'SimCLR'
    print(f'  after {last_epoch} epochs of {method} : {final_acc:6.2f} %  '
          f'({final_acc - init_acc:+.2f} points)')
    for name, value in references.items():
        print(f'  {name:<22}: {value:6.2f} %  (the same kNN on pixels)')
    print(f'  time: {elapsed / 60:.1f} min; plot: {curves}')
    print('=' * 64)
    if final_acc <= init_acc:
        print('WARNING: training did not beat the random-initialisation '
              'figure.')
        sys.exit(1)


if __name__ == '__main__':
    main()
