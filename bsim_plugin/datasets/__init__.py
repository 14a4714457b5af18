from .fashion_mnist import prepare_fashion_mnist
from .knn_eval_dataset import KNN_ROLE_KEY, KNNEvalDataset
from .transforms import IntensityJitter

__all__ = [
    'KNNEvalDataset', 'KNN_ROLE_KEY', 'prepare_fashion_mnist',
    'IntensityJitter'
]
