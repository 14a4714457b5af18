from .batch_norm import SplitBatchNorm2d, running_stats_frozen
from .conv import SinglePixelConv2d
from .key_set import columns_logits, queue_key_set
from .mixer import (InstanceMixer, MixResult, attach_mix_info,
                    collect_mix_info, cutmix, mixup, pair_indices)
from .strict_pretrained import StrictPretrainedInit
from .targets import RefinedLabels, mixture_targets, refine_labels

__all__ = [
    'InstanceMixer', 'MixResult', 'attach_mix_info', 'collect_mix_info',
    'cutmix', 'mixup', 'pair_indices', 'mixture_targets', 'queue_key_set',
    'columns_logits', 'StrictPretrainedInit', 'RefinedLabels', 'refine_labels',
    'SplitBatchNorm2d', 'running_stats_frozen', 'SinglePixelConv2d'
]
