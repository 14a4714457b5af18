from .data_preprocessors import MixtureDataPreprocessor
from .heads import SoftTargetContrastiveHead
from .memories import PseudoLabelMemory, kmeans
from .selfsup import (SANE, BSIMBYOL, BSIMMoCo, BSIMSimCLR, BSIMSimSiam,
                      EmbeddingPredictMixin, InterCLRMoCo)
from .utils import InstanceMixer, MixResult, SplitBatchNorm2d

__all__ = [
    'BSIMSimCLR', 'BSIMMoCo', 'BSIMBYOL', 'BSIMSimSiam', 'SANE',
    'InterCLRMoCo', 'EmbeddingPredictMixin', 'SplitBatchNorm2d',
    'InstanceMixer', 'MixResult', 'MixtureDataPreprocessor', 'SoftTargetContrastiveHead',
    'PseudoLabelMemory', 'kmeans'
]
