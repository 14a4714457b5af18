"""Protocols: reading and checking one, and what defines each of its runs.

A protocol is a config file (``configs/benchmarks/quality/*.py``) with a
``protocol = dict(...)``: the data, the kNN settings, the seeds and the
entries, each a pre-training config (method + recipe + budget) and the
entries it is compared with. A run is known by the digest of its config
(:func:`config_digest`), so a changed recipe is run again.
"""
import copy
import hashlib
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

from .curve import check_curve
from .linear import check_linear

ROOT = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

REFERENCES = ('pixels', 'pixels-centred', 'untrained')
REFERENCE_LABELS = {
    'pixels': 'raw pixels',
    'pixels-centred': 'centred pixels (train-split mean removed)',
    'untrained': 'untrained backbone',
}


def abs_path(path: str) -> str:
    """A path relative to the repository root made absolute."""
    return path if osp.isabs(path) else osp.join(ROOT, path)


def load_protocol(path: str) -> dict:
    """Read and check a protocol file; every problem is named."""
    from mmengine.config import Config
    if not osp.isfile(path):
        raise FileNotFoundError(f'protocol file not found: {path}')
    proto = Config.fromfile(path).get('protocol')
    if proto is None:
        raise KeyError(f'{path} defines no `protocol = dict(...)`')
    proto = proto.to_dict()
    for key in ('name', 'dataset', 'entries'):
        if key not in proto:
            raise KeyError(f'protocol {path} lacks "{key}"')
    proto.setdefault('title', proto['name'])
    proto.setdefault('seeds', [0, 1, 2])
    proto.setdefault('knn', dict(k=200, temperature=0.1))
    proto['curve'] = check_curve(path, proto.get('curve'))
    proto['linear'] = check_linear(path, proto.get('linear'))
    proto['path'] = osp.relpath(osp.abspath(path), ROOT)
    names = [e.get('name') for e in proto['entries']]
    if len(set(names)) != len(names) or None in names:
        raise ValueError(f'protocol {path}: entry names must be unique and '
                         f'set, got {names}')
    for entry in proto['entries']:
        _check_entry(path, entry, names)
    return proto


def _check_entry(path: str, entry: dict, names: List[str]) -> None:
    """Complete one entry of a protocol in place, or name what is wrong."""
    for key in ('method', 'config'):
        if key not in entry:
            raise KeyError(f'protocol {path}: entry {entry["name"]!r} '
                           f'lacks "{key}"')
    entry.setdefault('cfg_options', {})
    entry.setdefault('budget', '')
    base = entry.get('base')
    bases = [] if base is None else [base] if isinstance(base, str) \
        else list(base)
    for name in bases:
        if name not in names or name == entry['name']:
            raise ValueError(
                f'protocol {path}: entry {entry["name"]!r} has '
                f'base={name!r}, which is not another entry')
    entry['bases'] = bases
    scale = entry.get('epoch_scale')
    if scale is not None and (isinstance(scale, bool) or not isinstance(
            scale, (int, float)) or scale <= 0):
        raise ValueError(
            f'protocol {path}: entry {entry["name"]!r} has epoch_scale='
            f'{scale!r}; it must be a positive number (how many of its '
            "base's epochs one of its epochs is, on the curve chart)")
    check_pairs(path, entry, names)
    if not osp.isfile(abs_path(entry['config'])):
        raise FileNotFoundError(
            f'protocol {path}: entry {entry["name"]!r}: config not found: '
            f'{entry["config"]}')


def pairs_option(entry: dict) -> Optional[str]:
    """The entry's ``...pairs_file`` option (the key), or ``None``."""
    keys = [k for k in entry.get('cfg_options', {})
            if k.endswith('.pairs_file')]
    return keys[0] if keys else None


def check_pairs(path: str, entry: dict, names: list) -> None:
    """Complete an entry's ``pairs`` (the SePP entries' source of mined
    pairs, :mod:`.pairs`) in place, or name what is wrong."""
    spec = entry.get('pairs')
    if spec is None:
        return
    where = f'protocol {path}: entry {entry["name"]!r}'
    if not isinstance(spec, dict) or 'entry' not in spec:
        raise ValueError(f'{where}: pairs must be dict(entry=NAME, seed=0, '
                         f'k=1), got {spec!r}')
    unknown = set(spec) - {'entry', 'seed', 'k'}
    if unknown:
        raise ValueError(f'{where}: pairs has unknown keys {sorted(unknown)}'
                         "; it takes 'entry', 'seed' and 'k'")
    if spec['entry'] not in names or spec['entry'] == entry['name']:
        raise ValueError(f'{where}: pairs come from entry '
                         f'{spec["entry"]!r}, which is not another entry')
    spec.setdefault('seed', 0)
    spec.setdefault('k', 1)
    if not isinstance(spec['k'], int) or spec['k'] < 1:
        raise ValueError(f'{where}: pairs k must be an integer >= 1, got '
                         f'{spec["k"]!r}')
    if pairs_option(entry) is None:
        raise ValueError(f'{where}: has pairs but no cfg option ending in '
                         '.pairs_file to say where they go')


def find_entry(proto: dict, name: str) -> dict:
    for entry in proto['entries']:
        if entry['name'] == name:
            return entry
    raise KeyError(f'protocol {proto["name"]} has no entry {name!r}; it has '
                   f'{[e["name"] for e in proto["entries"]]}')


def default_protocols() -> List[str]:
    folder = osp.join(ROOT, 'configs', 'benchmarks', 'quality')
    return sorted(
        osp.join(folder, f) for f in os.listdir(folder)
        if f.endswith('.py') and not f.startswith('_'))


def build_config(config: str, cfg_options: Optional[dict] = None):
    """The training config of one run, before seed and work dir are set."""
    from mmengine.config import Config
    cfg = Config.fromfile(abs_path(config))
    if cfg_options:
        cfg.merge_from_dict(dict(cfg_options))
    return cfg


# Layers that compute the same function as mmcv's default, only faster:
# ``SinglePixelConv2d`` is ``nn.Conv2d`` with one-pixel outputs computed as a
# matrix product (the same products, summed in another order, as kernels
# for other instruction sets also do).
SAME_FUNCTION_CONVS = ('SinglePixelConv2d', )


def _without_same_function_layers(model: dict) -> None:
    backbone = model.get('backbone') or {}
    conv = backbone.get('conv_cfg')
    if conv is not None and dict(conv) == dict(type=conv.get('type')) \
            and conv.get('type') in SAME_FUNCTION_CONVS:
        del backbone['conv_cfg']


def recipe_text(cfg) -> str:
    """The config's text less runtime parts that never change a run's
    numbers, normalised away so that adding them keeps every recorded
    digest: the atomic checkpoint writer (``AtomicCheckpointHook`` is
    mmengine's ``CheckpointHook`` writing atomically),
    ``TrainProgressHook`` (it hands SANE and InterCLR the schedule position
    they read from mmengine's message hub before) and a backbone's
    ``conv_cfg=dict(type='SinglePixelConv2d')`` (``SAME_FUNCTION_CONVS``)."""
    cfg = copy.deepcopy(cfg)
    _without_same_function_layers(cfg.model)
    checkpoint = (cfg.get('default_hooks') or {}).get('checkpoint')
    if checkpoint and checkpoint.get('type') == 'AtomicCheckpointHook':
        checkpoint['type'] = 'CheckpointHook'
    if cfg.get('custom_hooks') is not None:
        cfg.custom_hooks = [
            h for h in cfg.custom_hooks if h.get('type') != 'TrainProgressHook'
        ]
    return cfg.pretty_text


def config_digest(cfg, revision: Optional[str] = None) -> str:
    """A short hash of everything that defines a run but its seed
    (:func:`recipe_text`).

    ``revision`` (an entry's ``revision`` key) stands for a change of the
    method's code that its config does not show (a corrected loss, say): a
    new revision makes the entry's earlier records stale, so it runs again.
    """
    text = recipe_text(cfg)
    if revision:
        text += f'\nrevision: {revision}'
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def model_digest(cfg) -> str:
    """A short hash of the model and data preprocessor configs (what the
    untrained reference depends on)."""
    model = cfg.model.to_dict()
    _without_same_function_layers(model)
    text = json.dumps(
        dict(model=model,
             data_preprocessor=(cfg.get('data_preprocessor') or {})),
        sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def entry_digests(proto: dict) -> Dict[str, Optional[str]]:
    """The config digest each record of a protocol must carry: entries the
    digest of their config, the untrained reference that of the first
    entry's model, the pixel references none."""
    import bsim_plugin  # noqa: F401 (custom_imports in configs)
    digests = {}
    for e in proto['entries']:
        cfg = build_config(e['config'], e['cfg_options'])
        digests[e['name']] = config_digest(cfg, e.get('revision'))
        digests.setdefault('untrained', model_digest(cfg))
    return digests


def budget_of(cfg) -> dict:
    dataset = cfg.train_dataloader.dataset
    # A wrapper (SePP's pairs) counts the images of the data set it wraps.
    indices = dataset.get('indices', dataset.get('dataset', {}).get(
        'indices'))
    images = indices if isinstance(indices, int) else (
        len(indices) if indices is not None else None)
    return dict(
        epochs=int(cfg.train_cfg.max_epochs),
        train_images=images,
        batch_size=int(cfg.train_dataloader.batch_size))
