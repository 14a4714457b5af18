"""Backbone-only weights from a pre-training checkpoint.

A pre-training checkpoint holds the whole algorithm: the online backbone
(``backbone.*``), neck and head, and, depending on the algorithm, momentum or
target copies (MoCo's ``encoder_k.module.0.*``, BYOL's
``target_net.module.0.*``), queues and memories. Downstream tasks want the
backbone alone, with the keys of a bare ``ResNet`` so that mmpretrain's and
mmdet's ``ResNet`` load it strictly (no "unexpected key backbone.*" and no
silently random backbone).
"""
from collections import Counter
from typing import Dict, Tuple

import torch

# Where each source's backbone lives in the algorithm's state dict.
SOURCES = {
    # the encoder trained by gradient: every algorithm has it
    'online': ('backbone.', ),
    # the momentum / target copy (MoCo-style algorithms, BYOL)
    'momentum': ('encoder_k.module.0.', 'target_net.module.0.'),
}

# Top-level modules of a bare ResNet-like backbone: a checkpoint made only
# of these has been converted already.
_BARE_GROUPS = ('conv1', 'bn1', 'norm1', 'stem')


def is_bare_backbone(state: Dict[str, torch.Tensor]) -> bool:
    return all(
        group_of(k) in _BARE_GROUPS or group_of(k).startswith('layer')
        for k in state)


class ExportError(ValueError):
    """A checkpoint that cannot be exported, with the reason."""


def state_dict_of(checkpoint, name: str = 'checkpoint') -> Dict:
    """The state dict inside a loaded checkpoint (mmengine's or a plain
    one)."""
    if not isinstance(checkpoint, dict):
        raise ExportError(f'{name} is not a checkpoint: it holds a '
                          f'{type(checkpoint).__name__}, not a dict')
    state = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state, dict) or not state or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise ExportError(f'{name} is not a checkpoint: no state dict of '
                          'tensors in it')
    return state


def group_of(key: str) -> str:
    """The top-level module a key belongs to (for the summary)."""
    return key.split('.', 1)[0]


def extract_backbone(state: Dict[str, torch.Tensor],
                     source: str = 'online',
                     name: str = 'checkpoint'
                     ) -> Tuple[Dict[str, torch.Tensor], Counter]:
    """Split ``state`` into the backbone (prefix removed) and the rest.

    Args:
        state (dict): the algorithm's state dict.
        source (str): ``'online'`` (``backbone.*``) or ``'momentum'`` (the
            momentum / target copy).
        name (str): for messages.

    Returns:
        Tuple[dict, Counter]: the backbone's state dict with bare keys, and
        the number of dropped tensors per top-level module.
    """
    if source not in SOURCES:
        raise ExportError(f'source must be one of {sorted(SOURCES)}, got '
                          f'source={source!r}')
    prefixes = SOURCES[source]
    backbone, dropped = {}, Counter()
    for key, value in state.items():
        prefix = next((p for p in prefixes if key.startswith(p)), None)
        if prefix is None:
            dropped[group_of(key)] += 1
        else:
            backbone[key[len(prefix):]] = value
    if not backbone:
        if is_bare_backbone(state):
            raise ExportError(
                f'{name} is already a backbone-only checkpoint (keys like '
                f'{next(iter(state))!r}, no prefix): use it as it is')
        found = sorted({group_of(k) for k in state})
        raise ExportError(
            f'{name} has no {source} backbone (no key starting with '
            f'{" or ".join(prefixes)}); its modules: {found}')
    return backbone, dropped


def parameter_count(backbone: Dict[str, torch.Tensor]) -> int:
    """The backbone's parameters (floating tensors but the running
    statistics)."""
    return sum(v.numel() for k, v in backbone.items()
               if v.is_floating_point() and 'running_' not in k)


def summary(backbone: Dict[str, torch.Tensor], dropped: Counter) -> str:
    params = parameter_count(backbone)
    lines = [f'kept {len(backbone)} backbone tensors '
             f'({params / 1e6:.2f} M parameters)']
    if dropped:
        lines.append('dropped: ' + ', '.join(
            f'{group} ({n})' for group, n in sorted(dropped.items())))
    return '\n'.join(lines)


def load_checkpoint_state(path: str) -> Dict[str, torch.Tensor]:
    """The state dict of the checkpoint at ``path``, loaded with torch's
    safe ``weights_only`` loading; :class:`ExportError` for anything else."""
    try:
        loaded = torch.load(path, map_location='cpu', weights_only=True)
    except FileNotFoundError:
        raise ExportError(f'checkpoint not found: {path}')
    except Exception as e:  # torch raises many kinds for a foreign file
        first = (str(e).splitlines() or [''])[0]
        raise ExportError(f'{path} is not a checkpoint torch can load '
                          f'safely ({type(e).__name__}: {first})')
    return state_dict_of(loaded, path)


def backbone_state(state: Dict[str, torch.Tensor],
                   source: str = 'online',
                   name: str = 'checkpoint') -> Dict[str, torch.Tensor]:
    """Backbone weights with bare keys from a pre-training checkpoint's
    state dict, or the state dict itself if it is converted already."""
    if is_bare_backbone(state):
        return dict(state)
    return extract_backbone(state, source, name)[0]
