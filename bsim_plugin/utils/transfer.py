"""Which pre-trained stages a detection-transfer config imports.

The transfer configs (``configs/benchmarks/mmdetection``) hold one option,
``pretrained_prefixes``: the key prefixes of the pre-trained backbone that
go to the detector's backbone and, for C4 detectors, to its RoI head (res5,
the shared head)::

    pretrained_prefixes = dict(
        backbone=['conv1.', 'bn1.', 'layer1.', 'layer2.', 'layer3.'],
        roi_head=['layer4.'])

A part with prefixes loads them with ``StrictPretrained`` (every weight of
that module, or a named error); a part with an empty list keeps mmdet's own
initialisation (``init_cfg=None``). Each config writes its initialisers from
its option; :func:`apply_pretrained_prefixes` writes them again from the
option's current value (after ``--cfg-options``), which
``tools/benchmarks/mmdetection/train.py`` does before handing the config to
mmdet.
"""
from typing import Dict, List, Optional

# The model entries each part of the option initialises.
PARTS = {
    'backbone': ('backbone', ),
    'roi_head': ('roi_head', 'shared_head'),
}
# Keys of a shared head that no pre-trained backbone has (the extra norm
# after res5 of mmpretrain's ResLayerExtraNorm): they keep their own init.
NEW_KEYS = {'ResLayerExtraNorm': ['norm.']}


def _get(cfg, path):
    node = cfg
    for key in path:
        if not isinstance(node, dict) or node.get(key) is None:
            return None
        node = node[key]
    return node


def check_pretrained_prefixes(option, name='pretrained_prefixes') -> None:
    """Raise ``ValueError`` naming the bad entry of the option."""
    if not isinstance(option, dict):
        raise ValueError(f'{name} must be a dict with keys from '
                         f'{sorted(PARTS)}, got {option!r}')
    for part, prefixes in option.items():
        if part not in PARTS:
            raise ValueError(f'{name}.{part}: unknown part, expected one '
                             f'of {sorted(PARTS)}')
        if not isinstance(prefixes, (list, tuple)) or not all(
                isinstance(p, str) and p.endswith('.') for p in prefixes):
            raise ValueError(
                f'{name}.{part} must be a list of key prefixes ending with '
                f"'.' (e.g. ['layer4.']), or [] for mmdet's own "
                f'initialisation; got {prefixes!r}')


def checkpoint_of(cfg) -> Optional[str]:
    """The backbone checkpoint the config's initialisers point at."""
    for path in PARTS.values():
        init = _get(cfg.model, path + ('init_cfg', ))
        if isinstance(init, dict) and init.get('type') == 'StrictPretrained':
            return init.get('checkpoint')
    return cfg.get('bsim_backbone')


def init_cfg_for(cfg, part: str, prefixes: List[str],
                 checkpoint: str) -> Optional[dict]:
    """The ``init_cfg`` the option asks for at one part of the model."""
    if not prefixes:
        return None
    init = dict(type='StrictPretrained', checkpoint=checkpoint,
                prefixes=list(prefixes))
    module_type = str(_get(cfg.model, PARTS[part] + ('type', )) or '')
    new = NEW_KEYS.get(module_type.rsplit('.', 1)[-1])
    if new:
        init['new'] = list(new)
    return init


def apply_pretrained_prefixes(cfg,
                              checkpoint: Optional[str] = None
                              ) -> Dict[str, Optional[dict]]:
    """Write the model's initialisers from ``cfg.pretrained_prefixes``.

    Args:
        cfg (Config): a transfer config with the option.
        checkpoint (str, optional): the pre-trained backbone; defaults to
            the one the config names.

    Returns:
        dict: ``{part: init_cfg}`` as written (``None``: mmdet's init).

    Raises:
        ValueError: no option, a bad entry, or a part the model lacks.
    """
    option = cfg.get('pretrained_prefixes')
    if option is None:
        raise ValueError('the config has no pretrained_prefixes option (see '
                         'configs/benchmarks/mmdetection)')
    check_pretrained_prefixes(option)
    checkpoint = checkpoint or checkpoint_of(cfg)
    written = {}
    for part, prefixes in option.items():
        path = PARTS[part]
        module = _get(cfg.model, path)
        if module is None:
            if prefixes:
                raise ValueError(
                    f'pretrained_prefixes.{part}={list(prefixes)!r}, but the '
                    f'model has no {".".join(("model", ) + path)}')
            continue
        if prefixes and not checkpoint:
            raise ValueError('pretrained_prefixes imports weights but no '
                             'checkpoint is set')
        init = init_cfg_for(cfg, part, prefixes, checkpoint)
        module['init_cfg'] = init
        written[part] = init
    return written


def describe_pretrained_prefixes(written: Dict[str, Optional[dict]]) -> str:
    """One line per part: what it loads, or mmdet's initialisation."""
    lines = []
    for part, init in written.items():
        where = '.'.join(('model', ) + PARTS[part])
        if init is None:
            lines.append(f"{where}: mmdet's initialisation (nothing "
                         'imported)')
        else:
            lines.append(f'{where}: {" ".join(init["prefixes"])} from '
                         f'{init["checkpoint"]}')
    return '\n'.join(lines)
