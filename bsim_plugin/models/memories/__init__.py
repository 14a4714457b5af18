from .clustering import (fill_empty_clusters, kmeans, largest_dot_centroid,
                         member_means, nearest_centroid, split_largest)
from .memory_logits import memory_logits
from .pseudo_label_memory import PseudoLabelMemory
from .sampling import (STRATEGIES, LabelIndex, label_index, sample_negatives,
                       sample_positives)

__all__ = [
    'PseudoLabelMemory', 'kmeans', 'nearest_centroid', 'largest_dot_centroid',
    'member_means',
    'split_largest', 'fill_empty_clusters', 'sample_negatives',
    'sample_positives', 'STRATEGIES', 'LabelIndex', 'label_index',
    'memory_logits'
]
