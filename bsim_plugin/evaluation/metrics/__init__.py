from .knn import WeightedKNNAccuracy, weighted_knn_scores

__all__ = ['WeightedKNNAccuracy', 'weighted_knn_scores']
