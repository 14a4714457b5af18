"""Linear-probe top-1 of any checkpoint's backbone on a config's splits.

Frozen features are extracted once and a linear classifier is fitted on
them by full-batch L-BFGS:

    python tools/benchmarks/classification/linear_probe.py CONFIG CHECKPOINT \
        [--source online|momentum] [--weight-decay 1e-4] [--max-iter 300] \
        [--batch-size 256] [--device cpu] [--out F] [--record FILE]

The same inputs as knn.py beside it: CHECKPOINT is a pre-training
checkpoint of any of the plugin's algorithms or a backbone exported by
tools/model_converters/extract_backbone_weights.py; the backbone is built
from CONFIG (its model and data preprocessor) and loads the weights
strictly. The splits are the config's kNN val set (``KNNEvalDataset``:
the probe trains on the bank, the train split, and is scored on the
queries, the test split), or for a classification config (the linear
configs of configs/benchmarks/classification) its train set read through
the test pipeline and its test set. Features: globally pooled last-stage
backbone features in eval mode, no augmentation. Classifier: multinomial
logistic regression on the standardised features, L2 penalty
``--weight-decay`` on the weights, full-batch L-BFGS (``--max-iter``
iterations at most; deterministic). ``--record FILE`` (e.g.
tools/benchmarks/results/transfer_chain.jsonl) appends the result, its
wall time (features + fit), the date and the machine as one JSON line: the
linear-probe step of the README's transfer chain.
"""
import argparse
import json
import os.path as osp
import sys
import time

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import bsim_plugin  # noqa: F401  (registers the components)
from bsim_plugin.apis import (model_with_backbone, prepare_config_data,
                              silence_pkg_resources_warning)
from bsim_plugin.evaluation import (backbone_features, dataset_arrays,
                                    fit_linear_probe, probe_top1)
from bsim_plugin.utils.backbone_export import SOURCES, ExportError
from bsim_plugin.utils.strict_load import StateMismatch
from bsim_plugin.utils.validation import check_int, check_number

STEP = 'linear probe (`linear_probe.py`: frozen features, L-BFGS)'
BENCHMARKS = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a config with a kNN val set, or a '
                        'classification config with train and test sets')
    parser.add_argument('checkpoint', help='a pre-training checkpoint or an '
                        'exported backbone')
    parser.add_argument('--source', choices=sorted(SOURCES),
                        default='online',
                        help='which backbone of a pre-training checkpoint: '
                        'the online encoder or the momentum / target copy')
    parser.add_argument('--weight-decay', type=float, default=1e-4,
                        help='L2 penalty on the classifier weights, >= 0 '
                        '(default 1e-4)')
    parser.add_argument('--max-iter', type=int, default=300,
                        help='L-BFGS iterations at most (default 300)')
    parser.add_argument('--batch-size', type=int, default=256,
                        help='images per forward pass')
    parser.add_argument('--device', default='cpu',
                        help='where the backbone runs (default cpu)')
    parser.add_argument('--out', help='write the result as JSON here')
    parser.add_argument('--record', metavar='FILE',
                        help='append the result, wall time, date and machine '
                        'as one JSON line to FILE, e.g. '
                        'tools/benchmarks/results/transfer_chain.jsonl')
    return parser.parse_args(argv)


def record_probe(path: str, result: dict, device_name: str) -> None:
    """Append the result to the results file ``path`` (``--record``)."""
    if BENCHMARKS not in sys.path:
        sys.path.insert(0, BENCHMARKS)
    from quality_tool.records import append_record, device, today
    append_record(path, dict(
        result, kind='linear-probe', step=STEP,
        wall_s=round(result['extract_s'] + result['fit_s'], 1),
        date=today(), device=device(device_name)))


def probe_splits(cfg, config_name: str):
    """``(train, test)`` data set configs, both without augmentation."""
    val_set = (cfg.get('val_dataloader') or {}).get('dataset') or {}
    if val_set.get('type') == 'KNNEvalDataset':
        return val_set['bank'], val_set['query']
    train = (cfg.get('train_dataloader') or {}).get('dataset')
    test = (cfg.get('test_dataloader') or {}).get('dataset')
    if not train or not test or 'pipeline' not in test:
        sys.exit(f'error: {config_name} has neither a kNN val set '
                 "(val_dataloader.dataset of type KNNEvalDataset) nor "
                 'train_dataloader.dataset and test_dataloader.dataset with a '
                 'pipeline')
    # The train images through the test pipeline: no augmentation.
    return dict(train, pipeline=test['pipeline']), test


def main(argv=None):
    silence_pkg_resources_warning()
    args = parse_args(argv)
    try:
        check_number('linear_probe.py', '--weight-decay', args.weight_decay,
                     ge=0)
        check_int('linear_probe.py', '--max-iter', args.max_iter, ge=1)
        check_int('linear_probe.py', '--batch-size', args.batch_size, ge=1)
    except ValueError as e:
        sys.exit(f'error: {e}')
    if args.record and osp.isdir(args.record):
        sys.exit(f'error: --record {args.record} is a folder; give the '
                 'results file')
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    train_set, test_set = probe_splits(cfg, args.config)
    try:
        model = model_with_backbone(cfg, args.config, args.checkpoint,
                                    args.source, args.device)
    except (ExportError, StateMismatch) as e:
        sys.exit(f'error: {e}')
    prepare_config_data(cfg)
    # prepare_config_data may point the data sets at an unpacked copy.
    train_set, test_set = probe_splits(cfg, args.config)
    start = time.perf_counter()
    train_x, train_y = dataset_arrays(train_set)
    test_x, test_y = dataset_arrays(test_set)
    print(f'features of {len(train_x)} train + {len(test_x)} test images',
          flush=True)
    feats = backbone_features(model, torch.cat([train_x, test_x]),
                              batch_size=args.batch_size, progress=True)
    train_f, test_f = feats[:len(train_x)], feats[len(train_x):]
    extract_s = time.perf_counter() - start
    start = time.perf_counter()
    num_classes = int(max(train_y.max(), test_y.max())) + 1
    probe = fit_linear_probe(train_f, train_y, num_classes,
                             weight_decay=args.weight_decay,
                             max_iter=args.max_iter)
    fit_s = time.perf_counter() - start
    train_acc = probe_top1(probe, train_f, train_y)
    acc = probe_top1(probe, test_f, test_y)
    result = dict(
        config=args.config, checkpoint=args.checkpoint, source=args.source,
        train=len(train_f), test=len(test_f), dim=train_f.shape[1],
        weight_decay=args.weight_decay, max_iter=args.max_iter,
        iterations=probe['iterations'], train_top1=round(train_acc, 2),
        linear_top1=round(acc, 2), extract_s=round(extract_s, 1),
        fit_s=round(fit_s, 1))
    print(f'linear probe ({train_f.shape[1]}-d features, L-BFGS '
          f'{probe["iterations"]} iterations, weight decay '
          f'{args.weight_decay:g}): top-1 {acc:.2f} % on the test split '
          f'(train {train_acc:.2f} %; features {extract_s:.1f} s, fit '
          f'{fit_s:.1f} s)')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
    if args.record:
        record_probe(args.record, result, args.device)
        print(f'recorded the result in {args.record}')
    return result


if __name__ == '__main__':
    main()
