"""Per-stage health of pre-trained ResNet weights: did pre-training train
each stage, and are its residual branches switched on?

A stage can come out of pre-training barely trained. The CPU recipe
pre-trains on 28 px images with the ImageNet stem, so ``layer4`` (res5) only
ever sees 1x1 maps; with ``zero_init_residual`` the last norm of each of its
blocks starts at 0 and stays close to it, so a detector that imports the
stage gets residual branches that are switched off. This module reads a
backbone's weights and reports, per stage (``stem``, ``layer1`` ...):

- ``conv scale``: the norm of the stage's conv weights over the norm they
  have at mmpretrain's (and mmdet's) initialisation, Kaiming normal with
  ``mode='fan_out'``: ``E ||W||^2 = 2 * W.shape[1]`` per conv. 1.00 is the
  scale of a fresh init; weight decay alone shrinks it.
- ``BN moved``: how far the affine parameters of the stage's norms (all but
  each block's last one) are from their initial values (weight 1, bias 0),
  as ``||(w - 1, b)|| / ||1||``. Their initial values do not depend on the
  seed, so this is an exact distance from a fresh init.
- ``last-BN |w|``: the mean ``|weight|`` of each block's last norm
  (``norm2`` of a ``BasicBlock``, ``norm3`` of a ``Bottleneck``), averaged
  over the stage's blocks. Near 0 the blocks are close to the identity.

Why no per-weight distance of the convs: without the run's own initial
weights, a fresh init made with another seed is about ``sqrt(2) * ||W||``
away from any weights, trained or not (the two random draws are
independent), so such a distance only restates the weight norm.

It warns when a stage's last norms are near zero (``last-BN |w|`` below
``last_bn_min``) or when its norms barely moved (``BN moved`` below
``moved_min``).
"""
import math
import re
from dataclasses import dataclass
from typing import Dict, List, Optional

import torch

# A stage whose blocks' last norms average less than this is "switched off".
LAST_BN_MIN = 0.1
# A stage whose norms moved less than this from their init looks untrained.
MOVED_MIN = 0.01

_STAGE = re.compile(r'^(layer\d+)\.(\d+)\.(.+)$')
_STEM = ('conv1.', 'bn1.', 'norm1.', 'stem.')
# A norm directly in a block: bn1, bn2, gn3, norm2 ...
_BLOCK_NORM = re.compile(r'^(bn|gn|ln|in|norm)(\d+)$')


@dataclass
class StageHealth:
    """One stage's figures; see the module docstring."""
    stage: str
    tensors: int
    conv_scale: Optional[float]
    bn_moved: Optional[float]
    last_bn: Optional[float]
    warning: Optional[str] = None


def _learnable(key: str, value) -> bool:
    return (isinstance(value, torch.Tensor) and value.is_floating_point()
            and not key.endswith(('running_mean', 'running_var')))


def _norm_modules(state: Dict[str, torch.Tensor]) -> Dict[str, tuple]:
    """``{module: (weight, bias)}`` of every norm layer: modules with a
    1-D ``weight`` (a ResNet's convs have 4-D weights and no bias)."""
    norms = {}
    for key, value in state.items():
        if key.endswith('.weight') and _learnable(key, value) and \
                value.dim() == 1:
            module = key[:-len('.weight')]
            norms[module] = (value.float(), state.get(module + '.bias'))
    return norms


def _last_norms(norm_modules: List[str]) -> Dict[str, str]:
    """``{block: its last norm}`` among a stage's norm modules
    (``layer4.1`` -> ``layer4.1.bn2``); downsample norms are not block
    norms."""
    last: Dict[str, tuple] = {}
    for module in norm_modules:
        match = _STAGE.match(module + '.')
        if not match:
            continue
        stage, block, rest = match.groups()
        name = rest.rstrip('.')
        found = _BLOCK_NORM.match(name)
        if found is None:  # e.g. downsample.1
            continue
        index = int(found.group(2))
        key = f'{stage}.{block}'
        if key not in last or index > last[key][0]:
            last[key] = (index, module)
    return {block: module for block, (_, module) in last.items()}


def _stage_of(key: str) -> Optional[str]:
    if key.startswith(_STEM):
        return 'stem'
    match = _STAGE.match(key)
    return match.group(1) if match else None


def stage_health(state: Dict[str, torch.Tensor],
                 last_bn_min: float = LAST_BN_MIN,
                 moved_min: float = MOVED_MIN) -> List[StageHealth]:
    """The health of each stage of a ResNet-like backbone's weights.

    Args:
        state (dict): backbone weights with bare keys (``conv1.weight``,
            ``layer1.0.bn1.weight`` ...), any subset of the stages.
        last_bn_min (float): warn below this mean ``|weight|`` of the
            blocks' last norms. Defaults to 0.1.
        moved_min (float): warn below this distance of the norms from
            their init. Defaults to 0.01.

    Returns:
        List[StageHealth]: one per stage found, in order (``stem`` first);
        empty for weights that are not a ResNet's.
    """
    stages: Dict[str, Dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        stage = _stage_of(key)
        if stage is not None and isinstance(value, torch.Tensor):
            stages.setdefault(stage, {})[key] = value

    def order(name):
        return -1 if name == 'stem' else int(name[len('layer'):])

    rows = []
    for stage in sorted(stages, key=order):
        weights = stages[stage]
        convs = [v.float() for k, v in weights.items()
                 if k.endswith('.weight') and _learnable(k, v) and
                 v.dim() == 4]
        conv_scale = None
        if convs:
            actual = sum(float((w**2).sum()) for w in convs)
            expected = sum(2.0 * w.shape[1] for w in convs)
            conv_scale = math.sqrt(actual / expected)
        norms = _norm_modules(weights)
        last = _last_norms(list(norms))
        last_modules = set(last.values())
        moved_sq, count = 0.0, 0
        for module, (weight, bias) in norms.items():
            if module in last_modules:
                continue
            moved_sq += float(((weight - 1)**2).sum())
            if bias is not None:
                moved_sq += float((bias.float()**2).sum())
            count += weight.numel()
        bn_moved = math.sqrt(moved_sq / count) if count else None
        last_bn = None
        if last:
            last_bn = sum(
                float(norms[m][0].abs().mean())
                for m in last.values()) / len(last)
        row = StageHealth(stage, len(weights), conv_scale, bn_moved,
                          last_bn)
        if last_bn is not None and last_bn < last_bn_min:
            row.warning = (
                f'{stage}: last-BN weights about {last_bn:.2f}; this stage '
                'was barely trained, the pre-training images may be too '
                'small for it (its residual branches are close to switched '
                'off: leave it freshly initialised downstream)')
        elif bn_moved is not None and bn_moved < moved_min:
            row.warning = (
                f'{stage}: norm weights within {bn_moved:.3f} of a fresh '
                'init; this stage looks untrained')
        rows.append(row)
    return rows


def _fmt(value: Optional[float], digits: int = 3) -> str:
    return '-' if value is None else f'{value:.{digits}f}'


def format_stage_health(rows: List[StageHealth],
                        warnings: bool = True) -> str:
    """A table of :func:`stage_health`'s rows, then (``warnings=True``) one
    line per warning."""
    if not rows:
        return 'stage health: not a ResNet-like backbone, no report'
    header = ('stage', 'tensors', 'conv scale', 'BN moved', 'last-BN |w|',
              'status')
    body = [(r.stage, str(r.tensors), _fmt(r.conv_scale, 2),
             _fmt(r.bn_moved), _fmt(r.last_bn), 'WARNING' if r.warning
             else 'ok') for r in rows]
    widths = [max(len(line[i]) for line in [header] + body)
              for i in range(len(header))]
    lines = ['stage health (conv scale: 1.00 at a fresh init; BN moved: '
             'distance of the norms from their init; last-BN |w|: mean '
             'over the blocks\' last norms, near 0 = switched off)']
    for line in [header] + body:
        lines.append('  '.join(cell.ljust(width)
                               for cell, width in zip(line, widths)).rstrip())
    if warnings:
        lines += [f'WARNING {r.warning}' for r in rows if r.warning]
    return '\n'.join(lines)


def health_warnings(rows: List[StageHealth]) -> List[str]:
    return [r.warning for r in rows if r.warning]
