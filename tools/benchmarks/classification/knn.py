"""Weighted kNN top-1 of any checkpoint's backbone on a config's kNN splits.

    python tools/benchmarks/classification/knn.py CONFIG CHECKPOINT \
        [--source online|momentum] [--k 200] [--temperature 0.1] [--out F]

CHECKPOINT is a pre-training checkpoint of any of the plugin's algorithms or
a backbone exported by tools/model_converters/extract_backbone_weights.py.
The backbone is built from CONFIG (its model and data preprocessor), loads
the weights strictly, embeds the bank and query splits of the config's val
set (``KNNEvalDataset``: bank and query data sets) with a progress bar, and
is scored with the same weighted kNN as the val loop (``WeightedKNNAccuracy``
on L2-normalised, globally pooled last-stage features).
"""
import argparse
import json
import sys

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import bsim_plugin  # noqa: F401  (registers the components)
from bsim_plugin.apis import (model_with_backbone, prepare_config_data,
                              silence_pkg_resources_warning)
from bsim_plugin.evaluation import (extract_embeddings, knn_top1,
                                    load_image_arrays)
from bsim_plugin.utils.backbone_export import SOURCES, ExportError
from bsim_plugin.utils.strict_load import StateMismatch
from bsim_plugin.utils.validation import check_int, check_number


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a config with a kNN val set '
                        '(val_dataloader.dataset of type KNNEvalDataset)')
    parser.add_argument('checkpoint', help='a pre-training checkpoint or an '
                        'exported backbone')
    parser.add_argument('--source', choices=sorted(SOURCES),
                        default='online',
                        help='which backbone of a pre-training checkpoint: '
                        'the online encoder or the momentum / target copy')
    parser.add_argument('--k', type=int,
                        help='neighbours, an int >= 1 and at most the bank '
                        'size (default: the config\'s val_evaluator.k, '
                        'else 200)')
    parser.add_argument('--temperature', type=float,
                        help='vote temperature, > 0 (default: the '
                        'config\'s val_evaluator.temperature, else 0.1)')
    parser.add_argument('--batch-size', type=int, default=256,
                        help='images per forward pass')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', help='write the result as JSON here')
    return parser.parse_args(argv)


def main(argv=None):
    silence_pkg_resources_warning()
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    knn_set = (cfg.get('val_dataloader') or {}).get('dataset') or {}
    if knn_set.get('type') != 'KNNEvalDataset':
        sys.exit(f'error: {args.config} has no kNN val set (val_dataloader.'
                 "dataset must be dict(type='KNNEvalDataset', bank=..., "
                 f"query=...)), got type={knn_set.get('type')!r}")
    evaluator = cfg.get('val_evaluator') or {}
    # None (not given) takes the config's value; 0 is a bad value.
    k = args.k if args.k is not None else evaluator.get('k', 200)
    temperature = (args.temperature if args.temperature is not None else
                   evaluator.get('temperature', 0.1))
    k_from = '--k' if args.k is not None else 'val_evaluator.k'
    t_from = ('--temperature' if args.temperature is not None else
              'val_evaluator.temperature')
    try:
        check_int('knn.py', k_from, k, ge=1)
        check_number('knn.py', t_from, temperature, gt=0)
    except ValueError as e:
        sys.exit(f'error: {e}')
    try:
        model = model_with_backbone(cfg, args.config, args.checkpoint,
                                    args.source, args.device)
    except (ExportError, StateMismatch) as e:
        sys.exit(f'error: {e}')
    prepare_config_data(cfg)
    bank, bank_y = load_image_arrays(knn_set['bank'])
    query, query_y = load_image_arrays(knn_set['query'])
    if k > len(bank):
        if args.k is not None:
            sys.exit(f'error: knn.py: --k={k} is larger than the bank '
                     f'({len(bank)} images)')
        # The config's k, clipped as the val loop's kNN clips it.
        print(f'val_evaluator.k={k} is larger than the bank: using '
              f'k={len(bank)}')
        k = len(bank)
    print(f'embedding {len(bank)} bank + {len(query)} query images',
          flush=True)
    feats = extract_embeddings(model, torch.cat([bank, query]),
                               batch_size=args.batch_size, progress=True)
    acc = knn_top1(feats[:len(bank)], bank_y, feats[len(bank):], query_y,
                   k=k, temperature=temperature)
    result = dict(config=args.config, checkpoint=args.checkpoint,
                  source=args.source, k=k, temperature=temperature,
                  bank=len(bank), queries=len(query), knn_top1=round(acc, 2))
    print(f'weighted kNN top-1 (k={k}, T={temperature}): {acc:.2f} %')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
