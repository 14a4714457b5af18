from .feature_knn import (extract_embeddings, knn_top1, load_image_arrays,
                          pixel_embeddings)
from .metrics import WeightedKNNAccuracy, weighted_knn_scores

__all__ = [
    'WeightedKNNAccuracy', 'weighted_knn_scores', 'extract_embeddings',
    'knn_top1', 'load_image_arrays', 'pixel_embeddings'
]
