"""Load pre-trained backbone weights strictly: no silently random layer.

mmengine's ``Pretrained`` initialiser loads with ``strict=False``: a
checkpoint whose keys do not match (the "unexpected key backbone.*" of a
full pre-training checkpoint) leaves the backbone random with only a
warning in the log. ``StrictPretrained`` takes a pre-training checkpoint of
any of the plugin's algorithms or a backbone exported by
``tools/model_converters/extract_backbone_weights.py``, and fails, naming
the keys, unless every weight of the module is loaded and every weight of
the backbone is used.

    backbone=dict(..., init_cfg=dict(type='StrictPretrained',
                                     checkpoint='backbone.pth'))

After loading it logs the health of each loaded stage (how far its weights
are from a fresh init, the scale of its blocks' last norms) and warns about
a stage that looks untrained or switched off
(``bsim_plugin.utils.stage_health``).

It also keeps mmpretrain's ``ResNet`` from zeroing the loaded last BN of
each block (``zero_init_residual``), as mmengine's ``Pretrained`` does.

It is registered in mmengine's root ``WEIGHT_INITIALIZERS``, so mmpretrain
and mmdet configs (any default scope) find it once the plugin is imported.
"""
import logging
from typing import Optional, Sequence

from mmengine.logging import print_log
from mmengine.registry import WEIGHT_INITIALIZERS

from ...utils.backbone_export import backbone_state, load_checkpoint_state
from ...utils.stage_health import format_stage_health, stage_health


def _first(keys, n=5):
    keys = sorted(keys)
    more = f' (+{len(keys) - n} more)' if len(keys) > n else ''
    return ', '.join(keys[:n]) + more


@WEIGHT_INITIALIZERS.register_module(name='StrictPretrained')
class StrictPretrainedInit:
    """Initialise a backbone from pre-trained weights, all or nothing.

    Args:
        checkpoint (str): a pre-training checkpoint or an exported backbone.
        source (str): ``'online'`` (default) or ``'momentum'`` (MoCo's key
            encoder, BYOL's target network) for a pre-training checkpoint.
        prefixes (Sequence[str], optional): take only the backbone weights
            whose keys start with one of these (a C4 detector's backbone:
            ``conv1. bn1. layer1. layer2. layer3.``; its RoI head's res5:
            ``layer4.``). Defaults to all.
        new (Sequence[str], optional): key prefixes of the module's own
            parameters that no pre-trained backbone has (the extra norm of
            mmpretrain's ``ResLayerExtraNorm``: ``norm.``); they keep their
            own initialisation. Defaults to none.
    """

    def __init__(self,
                 checkpoint: str,
                 source: str = 'online',
                 prefixes: Optional[Sequence[str]] = None,
                 new: Optional[Sequence[str]] = None) -> None:
        self.checkpoint = checkpoint
        self.source = source
        self.prefixes = tuple(prefixes) if prefixes else None
        self.new = tuple(new) if new else ()

    def __call__(self, module) -> None:
        weights = backbone_state(
            load_checkpoint_state(self.checkpoint), self.source,
            self.checkpoint)
        if self.prefixes:
            weights = {
                k: v
                for k, v in weights.items() if k.startswith(self.prefixes)
            }
        new = self.new
        own = {
            k: v
            for k, v in module.state_dict().items()
            if not (new and k.startswith(new))
        }
        missing = set(own) - set(weights)
        unexpected = set(weights) - set(own)
        shapes = [
            k for k in set(own) & set(weights)
            if own[k].shape != weights[k].shape
        ]
        if missing or unexpected or shapes:
            problems = []
            if missing:
                problems.append(f'not in the checkpoint: {_first(missing)}')
            if unexpected:
                problems.append(
                    f'not in the {type(module).__name__}: '
                    f'{_first(unexpected)}')
            if shapes:
                problems.append(f'other shapes: {_first(shapes)}')
            raise ValueError(
                f'StrictPretrained: {self.checkpoint} does not fit '
                f'{type(module).__name__}; ' + '; '.join(problems))
        result = module.load_state_dict(weights, strict=False)
        # Everything else was checked above; only declared new keys remain.
        assert not result.unexpected_keys and all(
            k.startswith(new) for k in result.missing_keys)
        if getattr(module, 'zero_init_residual', False):
            # mmpretrain's ResNet zeroes the last BN of every block after
            # the init_cfg has run unless its type is 'Pretrained': that
            # would overwrite loaded weights. Suppress it, as it does for
            # 'Pretrained'.
            module.zero_init_residual = False
        print_log(
            f'StrictPretrained: loaded all {len(weights)} tensors of '
            f'{type(module).__name__} from {self.checkpoint}',
            logger='current')
        health = stage_health(weights)
        if health:
            print_log(f'StrictPretrained ({type(module).__name__}): '
                      + format_stage_health(health, warnings=False),
                      logger='current')
            for row in health:
                if row.warning:
                    print_log(f'StrictPretrained: {self.checkpoint}: '
                              f'{row.warning}', logger='current',
                              level=logging.WARNING)
        if hasattr(module, '_params_init_info'):
            from mmengine.model.weight_init import update_init_info
            update_init_info(
                module,
                init_info=f'StrictPretrained: load from {self.checkpoint}')
