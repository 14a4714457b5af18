from typing import List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmpretrain.registry import METRICS

from ...datasets.knn_eval_dataset import KNN_ROLE_KEY
from ...utils.validation import check_number


@torch.no_grad()
def weighted_knn_scores(query: torch.Tensor,
                        bank: torch.Tensor,
                        bank_labels: torch.Tensor,
                        num_classes: int,
                        k: int = 200,
                        temperature: float = 0.1,
                        chunk_size: int = 1024) -> torch.Tensor:
    r"""Class scores of a weighted kNN classifier (Wu et al., 2018).

    For each query the ``k`` most cosine-similar bank entries vote for their
    label with weight :math:`\exp(s / T)`:

    .. math:: \mathrm{score}_c(q) = \sum_{b \in \mathrm{top}_k(q)}
              e^{s(q, b)/T}\,[y_b = c]

    Args:
        query (Tensor): ``(Q, D)`` L2-normalised features.
        bank (Tensor): ``(B, D)`` L2-normalised features.
        bank_labels (Tensor): ``(B,)`` long labels.
        num_classes (int): number of classes.
        k (int): neighbours; clipped to ``B``.
        temperature (float): :math:`T`.
        chunk_size (int): queries per matrix product (bounds memory).

    Returns:
        Tensor: ``(Q, num_classes)`` scores.
    """
    k = min(k, bank.size(0))
    scores = []
    for start in range(0, query.size(0), chunk_size):
        sim = query[start:start + chunk_size] @ bank.t()
        top_sim, top_idx = sim.topk(k, dim=1)
        weight = (top_sim / temperature).exp()
        chunk_scores = torch.zeros(
            sim.size(0), num_classes, dtype=weight.dtype, device=sim.device)
        chunk_scores.scatter_add_(1, bank_labels[top_idx], weight)
        scores.append(chunk_scores)
    return torch.cat(scores)


@METRICS.register_module()
class WeightedKNNAccuracy(BaseMetric):
    """Weighted kNN top-k accuracy on L2-normalised backbone embeddings.

    The val/test dataset is a :class:`KNNEvalDataset`: its bank samples
    (usually the train split) form the neighbour memory and its query
    samples (the test split) are classified. The model must put an
    ``embedding`` in every data sample in ``predict`` mode (the plugin's
    algorithms do, see ``EmbeddingPredictMixin``). Reported as ``knn/top1``
    (percent), like mmpretrain's ``accuracy/top1``.

    Args:
        k (int): neighbours. Defaults to 200.
        temperature (float): weight temperature. Defaults to 0.1.
        topk (Sequence[int]): which top-k accuracies to report.
            Defaults to ``(1, )``.
        chunk_size (int): queries per similarity block. Defaults to 1024.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): defaults to ``'knn'``.
    """
    default_prefix: Optional[str] = 'knn'

    def __init__(self,
                 k: int = 200,
                 temperature: float = 0.1,
                 topk: Sequence[int] = (1, ),
                 chunk_size: int = 1024,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(
                f'WeightedKNNAccuracy: k must be an int >= 1, got k={k!r}')
        temperature = check_number('WeightedKNNAccuracy', 'temperature',
                                   temperature, gt=0)
        topk = tuple(topk)
        if not topk or not all(isinstance(t, int) and t >= 1 for t in topk):
            raise ValueError('WeightedKNNAccuracy: topk must be ints >= 1, '
                             f'got topk={topk!r}')
        if not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError('WeightedKNNAccuracy: chunk_size must be an int '
                             f'>= 1, got {chunk_size!r}')
        self.k = k
        self.temperature = float(temperature)
        self.topk = topk
        self.chunk_size = chunk_size

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'embedding' not in sample:
                raise KeyError(
                    'WeightedKNNAccuracy needs an "embedding" in each '
                    'predicted data sample; use an algorithm with '
                    'EmbeddingPredictMixin (all bsim_plugin algorithms).')
            role = sample.get(KNN_ROLE_KEY)
            if role not in ('bank', 'query'):
                raise KeyError(
                    f'WeightedKNNAccuracy needs "{KNN_ROLE_KEY}" (bank or '
                    'query) in each sample: use KNNEvalDataset for the '
                    'val/test dataset.')
            self.results.append(
                dict(
                    embedding=sample['embedding'].float().cpu(),
                    label=int(sample['gt_label'].reshape(-1)[0]),
                    is_bank=role == 'bank'))

    def compute_metrics(self, results: List[dict]) -> dict:
        bank = [r for r in results if r['is_bank']]
        query = [r for r in results if not r['is_bank']]
        if not bank or not query:
            raise ValueError(f'WeightedKNNAccuracy got {len(bank)} bank and '
                             f'{len(query)} query samples; both must be > 0')
        bank_feat = torch.stack([r['embedding'] for r in bank])
        bank_labels = torch.tensor([r['label'] for r in bank])
        query_feat = torch.stack([r['embedding'] for r in query])
        query_labels = torch.tensor([r['label'] for r in query])
        classes = (self.dataset_meta or {}).get('classes')
        num_classes = len(classes) if classes else int(
            max(bank_labels.max(), query_labels.max())) + 1
        if self.k > len(bank):
            MMLogger.get_current_instance().warning(
                f'WeightedKNNAccuracy: k={self.k} > {len(bank)} bank '
                f'samples; using k={len(bank)}')
        scores = weighted_knn_scores(query_feat, bank_feat, bank_labels,
                                     num_classes, self.k, self.temperature,
                                     self.chunk_size)
        ranked = scores.topk(min(max(self.topk), num_classes), dim=1)[1]
        hits = ranked == query_labels[:, None]
        return {
            f'top{t}': float(hits[:, :t].any(dim=1).float().mean() * 100)
            for t in self.topk
        }
