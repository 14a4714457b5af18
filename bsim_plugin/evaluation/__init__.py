from .feature_knn import (extract_embeddings, feature_spread, knn_top1,
                          load_image_arrays, pixel_embeddings)
from .linear_probe import (backbone_features, dataset_arrays,
                           fit_linear_probe, probe_top1)
from .metrics import WeightedKNNAccuracy, weighted_knn_scores

__all__ = [
    'WeightedKNNAccuracy', 'weighted_knn_scores', 'extract_embeddings',
    'feature_spread',
    'knn_top1', 'load_image_arrays', 'pixel_embeddings', 'backbone_features',
    'dataset_arrays', 'fit_linear_probe', 'probe_top1'
]
