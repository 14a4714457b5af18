from .fashion_mnist import prepare_fashion_mnist
from .knn_eval_dataset import KNN_ROLE_KEY, KNNEvalDataset
from .mixture_pair_dataset import MixturePairDataset
from .transforms import IntensityJitter, MixWithPartner

__all__ = [
    'KNNEvalDataset', 'KNN_ROLE_KEY', 'prepare_fashion_mnist',
    'IntensityJitter', 'MixturePairDataset', 'MixWithPartner'
]
