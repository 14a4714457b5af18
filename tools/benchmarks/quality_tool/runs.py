"""One run in this process: pre-train an entry and score it, or measure a
reference, with the same kNN code on the same splits.

Every run scores weighted kNN top-1 on the whole test split with the whole
train split as the bank. :func:`run_child` is what each subprocess of
:mod:`.schedule` executes; it prints the record as its last line.
"""
import json
import os.path as osp
import time

from .protocol import (REFERENCE_LABELS, REFERENCES, budget_of, build_config,
                       config_digest, find_entry, load_protocol,
                       model_digest)
from .curve import KNNCurveHook, curve_arrays
from .linear import linear_scores
from .records import provenance
from .resume import RunStateHook, resume_point, save_run_record
from .tables import COLLAPSED_BELOW, collapsed

RECORD_PREFIX = 'QUALITY-RECORD '


def split_arrays(proto: dict):
    """(bank images, bank labels, query images, query labels): the whole
    train split and the whole test split of the protocol's data set."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import bsim_plugin  # noqa: F401
    from bsim_plugin.apis import prepare_config_data
    from bsim_plugin.evaluation import load_image_arrays
    init_default_scope('mmpretrain')
    dataset = dict(proto['dataset'])
    prepare_config_data(Config(dict(test_dataloader=dict(dataset=dataset))))
    return (*load_image_arrays(dict(dataset, split='train', test_mode=False)),
            *load_image_arrays(dict(dataset, split='test', test_mode=True)))


def score_model(model, proto: dict, progress: bool = True, arrays=None):
    """The scores of a model's frozen features: ``knn_top1``, ``bank`` and
    ``queries`` (sizes); with the protocol's ``linear`` setting also
    ``linear_top1`` (a linear probe fitted on the bank's features, scored on
    the queries; see :func:`linear_scores`) and ``linear_s``; and
    ``feature_spread`` of the kNN's embeddings (0 for a collapsed encoder:
    :func:`bsim_plugin.evaluation.feature_spread`)."""
    import torch

    from bsim_plugin.evaluation import (backbone_features, extract_embeddings,
                                        feature_spread, knn_top1)
    bank, bank_y, query, query_y = arrays or split_arrays(proto)
    if progress:
        print(f'[quality] embedding {len(bank)} bank + {len(query)} query '
              'images', flush=True)
    images = torch.cat([bank, query])
    scores = dict(bank=len(bank), queries=len(query))
    if not proto.get('linear'):
        feats = extract_embeddings(model, images, progress=progress)
    else:
        # One pass: the kNN's embeddings are these features, L2-normalised.
        raw = backbone_features(model, images, batch_size=1000,
                                progress=progress)
        feats = torch.nn.functional.normalize(raw, dim=1)
        scores.update(linear_scores(raw[:len(bank)], bank_y,
                                    raw[len(bank):], query_y,
                                    proto['linear'], progress))
    scores['knn_top1'] = knn_top1(feats[:len(bank)], bank_y,
                                  feats[len(bank):], query_y, **proto['knn'])
    scores['feature_spread'] = feature_spread(feats)
    return scores


def run_entry(proto: dict, entry: dict, seed: int, work_root: str,
              progress: bool = True) -> dict:
    """Pre-train one entry with one seed and score it; returns the record."""
    from mmengine.runner import Runner

    import bsim_plugin  # noqa: F401
    from bsim_plugin.apis import prepare_config_data
    start = time.time()
    cfg = build_config(entry['config'], entry['cfg_options'])
    digest = config_digest(cfg, entry.get('revision'))
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = osp.join(work_root, proto['name'], entry['name'],
                            f'seed{seed}')
    cfg.launcher = 'none'
    cfg.experiment_name = f'{entry["name"]}_seed{seed}_{int(start)}'
    # Train only: the protocol's own kNN (whole train split as the bank)
    # replaces the config's periodic validation.
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.custom_hooks = [
        h for h in cfg.get('custom_hooks', [])
        if h.get('type') != 'InitialValidationHook'
    ]
    prepare_config_data(cfg)
    previous = resume_point(cfg.work_dir, digest, seed)
    if previous:
        # Continue the run where it stopped (see .resume).
        cfg.load_from, cfg.resume = previous['path'], True
        print(f'[quality] resuming {entry["name"]} seed {seed} from epoch '
              f'{previous["epoch"]} ({previous["path"]})', flush=True)
    runner = Runner.from_cfg(cfg)
    arrays = curve_hook = None
    if proto.get('curve'):
        arrays = split_arrays(proto)
        curve_hook = KNNCurveHook(
            curve_arrays(arrays, proto['curve']), proto['curve']['interval'],
            proto['knn'], points=(previous or {}).get('curve'))
        runner.register_hook(curve_hook)
    state = RunStateHook(digest, seed, start, curve_hook, previous)
    runner.register_hook(state)
    runner.train()
    train_s = state.train_seconds()
    scores = score_model(runner.model, proto, progress, arrays)
    spread = round(scores['feature_spread'], 4)
    if collapsed(spread):
        print(f'[quality] WARNING: {entry["name"]} seed {seed} collapsed: '
              f'the spread of its embeddings is {spread} (below '
              f'{COLLAPSED_BELOW}; 0 = one vector for every image); its '
              'row marks this seed "collapsed"', flush=True)
    extra = dict(resumed=state.resumed) if state.resumed else {}
    if 'linear_top1' in scores:
        extra.update(linear_top1=scores['linear_top1'],
                     linear_s=scores['linear_s'], linear=proto['linear'])
    if curve_hook is not None:
        extra.update(curve=curve_hook.points,
                     curve_s=round(state.curve_seconds(), 1),
                     curve_bank=proto['curve']['bank'],
                     curve_queries=proto['curve']['queries'])
    record = dict(
        protocol=proto['name'],
        entry=entry['name'],
        method=entry['method'],
        config=entry['config'],
        cfg_options=entry['cfg_options'],
        config_digest=digest,
        seed=seed,
        **budget_of(cfg),
        train_s=round(train_s, 1),
        wall_s=round(state.earlier_s + time.time() - start, 1),
        knn_top1=round(scores['knn_top1'], 2),
        feature_spread=spread,
        bank=scores['bank'],
        queries=scores['queries'],
        **extra,
        **proto['knn'],
        **provenance())
    final = resume_point(cfg.work_dir, digest, seed)
    if final and final['epoch'] == record['epochs']:
        # What the final checkpoint scored (SePP's miner note cites it).
        save_run_record(cfg.work_dir, final['path'], record)
    return record


def _untrained(proto: dict, seed: int, arrays) -> tuple:
    """kNN top-1 of the first entry's model as initialised, and what the
    record says about that model (with the linear probe's top-1 when the
    protocol asks for one)."""
    import torch
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    entry = proto['entries'][0]
    cfg = build_config(entry['config'], entry['cfg_options'])
    torch.manual_seed(seed)
    model_cfg = dict(cfg.model)
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    model = MODELS.build(model_cfg)
    model.init_weights()
    scores = score_model(model, proto, arrays=arrays)
    backbone = cfg.model.backbone
    linear = {k: scores[k] for k in ('linear_top1', 'linear_s')
              if k in scores}
    return scores['knn_top1'], dict(
        **linear,
        config=entry['config'],
        config_digest=model_digest(cfg),
        init=('mmpretrain init_weights (kaiming conv, BN weight 1'
              + (', zero_init_residual' if backbone.get(
                  'zero_init_residual', True) else '') + ')'))


def run_reference(proto: dict, name: str, seed: int) -> dict:
    """One reference figure, by the same kNN code on the same splits."""
    from bsim_plugin.evaluation import knn_top1, pixel_embeddings
    start = time.time()
    arrays = split_arrays(proto)
    bank, bank_y, query, query_y = arrays
    extra = dict(config_digest=None)
    if name == 'untrained':
        acc, info = _untrained(proto, seed, arrays)
        extra.update(info)
    else:
        mean = bank.float().mean(0) if name == 'pixels-centred' else None
        acc = knn_top1(pixel_embeddings(bank, mean), bank_y,
                       pixel_embeddings(query, mean), query_y, **proto['knn'])
    return dict(
        protocol=proto['name'],
        entry=name,
        method=REFERENCE_LABELS[name],
        seed=seed if name == 'untrained' else 0,
        knn_top1=round(acc, 2),
        bank=len(bank),
        queries=len(query),
        wall_s=round(time.time() - start, 1),
        **extra,
        **proto['knn'],
        **provenance())


def run_child(protocol: str, entry: str, seed: int, work_root: str) -> None:
    """One run in this process; prints the record as the last line."""
    proto = load_protocol(protocol)
    if entry in REFERENCES:
        record = run_reference(proto, entry, seed)
    else:
        record = run_entry(proto, find_entry(proto, entry), seed, work_root)
    print(RECORD_PREFIX + json.dumps(record), flush=True)
