"""Load the weights an evaluation uses, strictly (tools/test.py).

mmengine's ``load_from`` loads non-strictly: an exported backbone (keys
without ``backbone.``) or a checkpoint of another depth leaves part of the
model random with only a "missing keys" warning, and the test loop scores
that model. Here the part the test loop uses is loaded all or nothing: the
backbone when every test evaluator is the kNN (``WeightedKNNAccuracy``
scores backbone embeddings), the whole model otherwise. For the kNN a full
pre-training checkpoint and an exported backbone are both accepted.
"""
from typing import List

from mmengine.model import is_model_wrapper, revert_sync_batchnorm

from ..utils.backbone_export import (ExportError, backbone_state,
                                     is_bare_backbone, load_checkpoint_state)
from ..utils.strict_load import load_strictly

BACKBONE_ONLY_METRICS = ('WeightedKNNAccuracy', )


def evaluator_types(evaluator) -> List[str]:
    """The metric types of a config's ``test_evaluator`` (dict or list)."""
    if evaluator is None:
        return []
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        evaluator = evaluator['metrics']
    metrics = evaluator if isinstance(evaluator, (list, tuple)) else [
        evaluator
    ]
    return [
        str(m.get('type', '')).rsplit('.', 1)[-1] for m in metrics
        if isinstance(m, dict)
    ]


def uses_backbone_only(cfg) -> bool:
    types = evaluator_types(cfg.get('test_evaluator'))
    return bool(types) and all(t in BACKBONE_ONLY_METRICS for t in types)


def load_evaluation_weights(model, checkpoint: str, cfg,
                            config_name: str) -> str:
    """Load ``checkpoint`` into the part of ``model`` the test loop uses.

    Returns:
        str: what was loaded, for the log.

    Raises:
        ExportError: not a checkpoint, no backbone in it, or an exported
            backbone for a test loop that uses the whole model.
        StateMismatch: naming the missing, unexpected and differently
            shaped tensors and the config's backbone settings.
    """
    model = model.module if is_model_wrapper(model) else model
    state = load_checkpoint_state(checkpoint)
    backbone_cfg = (cfg.get('model') or {}).get('backbone')
    name = type(model).__name__
    if uses_backbone_only(cfg):
        weights = backbone_state(state, 'online', checkpoint)
        load_strictly(model.backbone, weights,
                      f'{checkpoint} does not fit the backbone of '
                      f'{config_name}', backbone_cfg)
        return (f'loaded all {len(weights)} backbone tensors from '
                f'{checkpoint} (the kNN test uses the backbone only)')
    if is_bare_backbone(state):
        raise ExportError(
            f'{checkpoint} is an exported backbone, but the test loop of '
            f'{config_name} uses the whole {name} (metrics: '
            f'{", ".join(evaluator_types(cfg.get("test_evaluator")))}): '
            'give the checkpoint of the trained model')
    load_strictly(model, state,
                  f'{checkpoint} does not fit the {name} of {config_name}',
                  backbone_cfg)
    return f'loaded all {len(state)} tensors of the {name} from {checkpoint}'


def model_with_backbone(cfg, config_name: str, checkpoint: str,
                        source: str = 'online', device: str = 'cpu'):
    """The config's model (data preprocessor included, SyncBN reverted) in
    eval mode on ``device``, its backbone loaded strictly from a
    pre-training checkpoint (``source``: its online or momentum copy) or
    an exported backbone: what the frozen-feature tools (kNN, linear
    probe) evaluate.

    Raises:
        ExportError: not a checkpoint, or no backbone in it.
        StateMismatch: naming the keys and shapes that do not fit.
    """
    from mmpretrain.registry import MODELS
    weights = backbone_state(load_checkpoint_state(checkpoint), source,
                             checkpoint)
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    model = revert_sync_batchnorm(MODELS.build(model_cfg))
    load_strictly(model.backbone, weights,
                  f'{checkpoint} does not fit the backbone of {config_name}',
                  model_cfg.get('backbone'))
    return model.to(device).eval()
