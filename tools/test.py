"""Evaluate a checkpoint with the config's test loop (e.g. kNN top-1).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE]
        [--cfg-options k=v ...] [--launcher none|pytorch|slurm|mpi]

The part of the model the test loop uses is loaded strictly before it runs:
the backbone for the kNN test (CHECKPOINT may then be a pre-training
checkpoint or an exported backbone), the whole model otherwise. A checkpoint
that does not fit stops the run with the keys and shapes that disagree.
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.runner import Runner

import bsim_plugin  # noqa: F401  (registers the components)
from bsim_plugin.apis import (load_evaluation_weights, prepare_config_data,
                              setup_cpu_distributed, shutdown_distributed,
                              silence_pkg_resources_warning)
from bsim_plugin.utils.backbone_export import ExportError
from bsim_plugin.utils.strict_load import StateMismatch


class LoadEvaluationWeights(Hook):
    """Loads the checkpoint strictly where mmengine would load it
    non-strictly (after the test loop is built, before it runs)."""
    priority = 'VERY_HIGH'

    def __init__(self, checkpoint: str, cfg: Config, config_name: str):
        self.checkpoint = checkpoint
        self.cfg = cfg
        self.config_name = config_name

    def before_run(self, runner) -> None:
        runner.logger.info(
            load_evaluation_weights(runner.model, self.checkpoint, self.cfg,
                                    self.config_name))


def parse_args():
    parser = argparse.ArgumentParser(description='Test a checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs')
    parser.add_argument(
        '--out', help='dump the metrics to this file (json, yaml or pkl)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    silence_pkg_resources_warning()
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    # Not mmengine's load_from: it loads non-strictly.
    cfg.load_from = None
    setup_cpu_distributed(cfg, args.launcher)
    prepare_config_data(cfg)
    runner = Runner.from_cfg(cfg)
    runner.register_hook(
        LoadEvaluationWeights(args.checkpoint, cfg, args.config))
    try:
        metrics = runner.test()
    except (ExportError, StateMismatch) as e:
        sys.exit(f'error: {e}')
    if args.out and runner.rank == 0:
        from mmengine.fileio import dump
        dump(metrics, args.out)
    del runner
    shutdown_distributed()
    return metrics


if __name__ == '__main__':
    main()
