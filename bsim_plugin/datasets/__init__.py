from .fashion_mnist import prepare_fashion_mnist
from .knn_eval_dataset import KNN_ROLE_KEY, KNNEvalDataset
from .mixture_pair_dataset import MixturePairDataset
from .semantic_pairs import (PairsFileError, SemanticPairDataset,
                             dataset_fingerprint, load_pairs, pairs_report,
                             save_pairs, select_pairs)
from .transforms import IntensityJitter, MixWithPartner

__all__ = [
    'KNNEvalDataset', 'KNN_ROLE_KEY', 'prepare_fashion_mnist',
    'IntensityJitter', 'MixturePairDataset', 'MixWithPartner',
    'SemanticPairDataset', 'PairsFileError', 'dataset_fingerprint',
    'load_pairs', 'save_pairs', 'select_pairs', 'pairs_report'
]
