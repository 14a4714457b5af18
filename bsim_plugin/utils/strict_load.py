"""Load weights all or nothing, with messages that say what disagrees.

torch's ``load_state_dict(strict=True)`` error starts with "Error(s) in
loading state_dict for ResNet:" and tools that keep only that line name no
key, shape or depth; mmengine's non-strict loading only warns. These helpers
compare two state dicts and raise :class:`StateMismatch` listing the missing,
unexpected and differently shaped tensors (with both shapes), and describe a
ResNet-like backbone from its weights (blocks per stage, widths) next to what
the config asks for (depth, channels).
"""
import re
from typing import Dict, List, Optional, Tuple

import torch

# Backbone settings worth naming when weights do not fit.
BACKBONE_KEYS = ('depth', 'arch', 'in_channels', 'stem_channels',
                 'base_channels', 'widen_factor', 'num_stages', 'deep_stem')


def _first(items: List[str], n: int = 5) -> str:
    more = f' (+{len(items) - n} more)' if len(items) > n else ''
    return ', '.join(items[:n]) + more


def _where(keys: List[str], n: int = 8) -> str:
    """The modules ``keys`` belong to (``layer1.2.bn1.bias`` ->
    ``layer1.2``), in order, for long lists."""
    modules = []
    for key in keys:
        parts = key.split('.')
        module = '.'.join(parts[:-2] if len(parts) > 2 else parts[:-1])
        if module and module not in modules:
            modules.append(module)
    return _first(modules, n)


def _shape(t) -> str:
    return str(tuple(t.shape))


class StateMismatch(ValueError):
    """Two state dicts disagree; ``details`` says where."""

    def __init__(self,
                 missing: List[str],
                 unexpected: List[str],
                 shapes: List[Tuple[str, str, str]],
                 message: Optional[str] = None) -> None:
        self.missing, self.unexpected, self.shapes = missing, unexpected, \
            shapes
        parts = []
        if missing:
            parts.append(f'{len(missing)} missing from the checkpoint (of '
                         f'{_where(missing)}): {_first(missing)}')
        if unexpected:
            parts.append(f'{len(unexpected)} in the checkpoint but not in '
                         f'the model (of {_where(unexpected)}): '
                         f'{_first(unexpected)}')
        if shapes:
            listed = [f'{k} checkpoint {a} vs model {b}' for k, a, b in shapes]
            parts.append(f'{len(shapes)} of another shape: {_first(listed)}')
        self.details = '; '.join(parts)
        super().__init__(message or self.details)


def compare_states(expected: Dict[str, torch.Tensor],
                   given: Dict[str, torch.Tensor]) -> None:
    """Raise :class:`StateMismatch` unless ``given`` has exactly the keys of
    ``expected`` with the same shapes."""
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    shapes = [(k, _shape(given[k]), _shape(expected[k]))
              for k in sorted(set(expected) & set(given))
              if hasattr(given[k], 'shape')
              and tuple(given[k].shape) != tuple(expected[k].shape)]
    if missing or unexpected or shapes:
        raise StateMismatch(missing, unexpected, shapes)


def describe_weights(state: Dict[str, torch.Tensor]) -> Optional[str]:
    """What a ResNet-like backbone's weights hold: input channels, stem
    width, blocks per stage, block type and output width; ``None`` when the
    keys are not a ResNet's."""
    blocks: Dict[int, set] = {}
    for key in state:
        match = re.match(r'layer(\d+)\.(\d+)\.', key)
        if match:
            blocks.setdefault(int(match.group(1)), set()).add(
                int(match.group(2)))
    if not blocks:
        return None
    stages = [len(blocks[s]) for s in sorted(blocks)]
    bottleneck = any('.conv3.' in k for k in state)
    parts = [f'{len(stages)} stages of {", ".join(map(str, stages))} '
             f'{"Bottleneck" if bottleneck else "BasicBlock"}s']
    depth = {((2, 2, 2, 2), False): 18, ((3, 4, 6, 3), False): 34,
             ((3, 4, 6, 3), True): 50, ((3, 4, 23, 3), True): 101,
             ((3, 8, 36, 3), True): 152}.get((tuple(stages), bottleneck))
    if depth is not None:
        parts[0] += f' (depth {depth})'
    stem = state.get('conv1.weight')
    if stem is not None and stem.dim() == 4:
        plural = 's' if stem.shape[1] != 1 else ''
        parts.append(f'{stem.shape[1]} input channel{plural}, stem width '
                     f'{stem.shape[0]}')
    last = max(blocks)
    last_convs = [v for k, v in state.items()
                  if k.startswith(f'layer{last}.') and '.conv' in k
                  and getattr(v, 'dim', lambda: 0)() == 4]
    if last_convs:
        parts.append(f'{last_convs[-1].shape[0]} output channels')
    return ', '.join(parts)


def describe_backbone_cfg(backbone_cfg) -> str:
    """``ResNet(depth=18, in_channels=1, base_channels=4)`` from a config's
    backbone dict."""
    backbone_cfg = dict(backbone_cfg or {})
    settings = [f'{k}={backbone_cfg[k]!r}' for k in BACKBONE_KEYS
                if k in backbone_cfg]
    return f'{backbone_cfg.get("type", "backbone")}({", ".join(settings)})'


def load_strictly(module: torch.nn.Module,
                  weights: Dict[str, torch.Tensor],
                  what: str,
                  backbone_cfg=None) -> None:
    """Load every tensor of ``module`` from ``weights`` or raise.

    Args:
        module: the module to fill.
        weights: its state dict (the checkpoint's).
        what: names the two sides in the message, e.g. ``"ckpt.pth does not
            fit the backbone of cfg.py"``.
        backbone_cfg: the config's backbone dict, described in the message.

    Raises:
        StateMismatch: ``what``, the keys and shapes that disagree, what the
        config asks for and what the checkpoint holds.
    """
    try:
        compare_states(module.state_dict(), weights)
    except StateMismatch as e:
        message = f'{what}: {e.details}'
        if backbone_cfg is not None:
            message += (f'. The config expects '
                        f'{describe_backbone_cfg(backbone_cfg)}')
            own = describe_weights(module.state_dict())
            if own:
                message += f' ({own})'
        held = describe_weights(weights)
        if held:
            message += f'; the checkpoint holds {held}'
        raise StateMismatch(e.missing, e.unexpected, e.shapes,
                            message) from None
    module.load_state_dict(weights, strict=True)
