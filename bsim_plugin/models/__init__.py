from .data_preprocessors import MixtureDataPreprocessor
from .heads import SoftTargetContrastiveHead
from .memories import PseudoLabelMemory, kmeans
from .selfsup import BSIMSimCLR, EmbeddingPredictMixin
from .utils import InstanceMixer, MixResult

__all__ = [
    'BSIMSimCLR', 'EmbeddingPredictMixin', 'InstanceMixer', 'MixResult',
    'MixtureDataPreprocessor', 'SoftTargetContrastiveHead',
    'PseudoLabelMemory', 'kmeans'
]
