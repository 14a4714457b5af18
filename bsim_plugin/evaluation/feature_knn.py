"""Weighted kNN on whole data sets, outside the val loop.

The quality benchmark (``tools/benchmarks/quality.py``) and the demo score a
trained model, the untrained model and raw pixels with the same code on the
same splits: the images are read once as a ``uint8`` tensor, embedded
(through the model's own data preprocessor, exactly as in its val loop, or
as flattened pixels), and classified by :func:`weighted_knn_scores`, the
function behind :class:`WeightedKNNAccuracy`.
"""
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.dataset import BaseDataset
from mmpretrain.registry import DATASETS

from .metrics.knn import weighted_knn_scores


def load_image_arrays(dataset: Union[dict, BaseDataset]
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
    """All images and labels of an in-memory data set as tensors.

    Args:
        dataset (dict | BaseDataset): an mmpretrain data set whose data
            infos hold the decoded ``img`` (``H x W`` or ``H x W x C``) and
            ``gt_label``, such as ``FashionMNIST``, ``MNIST`` or ``CIFAR10``.
            Its pipeline is not applied.

    Returns:
        Tuple[Tensor, Tensor]: ``(N, C, H, W)`` uint8 images, as
        ``PackInputs`` lays them out, and ``(N,)`` long labels.
    """
    if isinstance(dataset, dict):
        dataset = DATASETS.build(dict(dataset, pipeline=[]))
    images, labels = [], []
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        if 'img' not in info:
            raise KeyError(
                f'load_image_arrays needs decoded images ("img") in the data '
                f'infos of {type(dataset).__name__}; got keys {sorted(info)}')
        img = torch.as_tensor(info['img'])
        images.append(img[None] if img.dim() == 2 else img.permute(2, 0, 1))
        labels.append(int(info['gt_label']))
    return torch.stack(images), torch.tensor(labels, dtype=torch.long)


@torch.no_grad()
def extract_embeddings(model: torch.nn.Module,
                       images: torch.Tensor,
                       batch_size: int = 1000,
                       progress: bool = False) -> torch.Tensor:
    """L2-normalised embeddings of ``images``, as the model's val loop has.

    Each batch goes through ``model.data_preprocessor`` (normalisation, no
    mixing) and ``model.embed`` (pooled, L2-normalised backbone features,
    see ``EmbeddingPredictMixin``), in eval mode.

    Args:
        model (nn.Module): a plugin algorithm.
        images (Tensor): ``(N, C, H, W)`` uint8 images.
        batch_size (int): images per forward pass.
        progress (bool): show a progress bar.

    Returns:
        Tensor: ``(N, D)`` float embeddings on the CPU.
    """
    return batched_forward(
        model, images, lambda x: model.embed(x).float(), batch_size,
        progress)


@torch.no_grad()
def batched_forward(model: torch.nn.Module,
                    images: torch.Tensor,
                    forward,
                    batch_size: int = 1000,
                    progress: bool = False) -> torch.Tensor:
    """``forward`` of each batch of ``images`` after ``model``'s data
    preprocessor (normalisation, no mixing), in eval mode, concatenated on
    the CPU (the mode is restored afterwards)."""
    was_training = model.training
    model.eval()
    bar = None
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(len(images))
    out = []
    try:
        for start in range(0, len(images), batch_size):
            chunk = images[start:start + batch_size]
            data = model.data_preprocessor(
                dict(inputs=chunk, data_samples=None), training=False)
            x = data['inputs']
            if isinstance(x, (list, tuple)):
                x = x[0]
            out.append(forward(x).cpu())
            if bar is not None:
                bar.update(len(chunk))
    finally:
        model.train(was_training)
    if bar is not None:
        print(flush=True)
    return torch.cat(out)


def pixel_embeddings(images: torch.Tensor,
                     mean: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Flattened pixels, optionally centred, L2-normalised.

    Args:
        images (Tensor): ``(N, C, H, W)`` images.
        mean (Tensor, optional): a mean image to subtract (``(C, H, W)``,
            usually the bank's mean). ``None`` keeps the raw pixels.
    """
    x = images.float()
    if mean is not None:
        x = x - mean
    return F.normalize(x.flatten(1), dim=1)


def knn_top1(bank: torch.Tensor,
             bank_labels: torch.Tensor,
             query: torch.Tensor,
             query_labels: torch.Tensor,
             k: int = 200,
             temperature: float = 0.1,
             num_classes: Optional[int] = None) -> float:
    """Weighted kNN top-1 accuracy in percent (as ``knn/top1``).

    Args:
        bank, query (Tensor): ``(B, D)`` and ``(Q, D)`` L2-normalised
            features.
        bank_labels, query_labels (Tensor): long labels.
        k (int): neighbours. Defaults to 200.
        temperature (float): vote temperature. Defaults to 0.1.
        num_classes (int, optional): defaults to the largest label + 1.
    """
    if num_classes is None:
        num_classes = int(max(bank_labels.max(), query_labels.max())) + 1
    scores = weighted_knn_scores(query, bank, bank_labels, num_classes, k,
                                 temperature)
    return float((scores.argmax(dim=1) == query_labels).float().mean() * 100)


def feature_spread(embeddings: torch.Tensor) -> float:
    """How far L2-normalised embeddings spread around their mean direction.

    ``sqrt(1 - ||mean_i e_i||^2)``: the root of the embeddings' total
    variance, since each has unit norm. 0 when every embedding is the same
    vector (a collapsed encoder: every kNN vote ties), near 1 when they point
    every way. The mean pairwise cosine of ``N`` embeddings is
    ``(N * (1 - spread^2) - 1) / (N - 1)``.

    Args:
        embeddings (Tensor): ``(N, D)`` L2-normalised embeddings, ``N >= 1``.
    """
    if embeddings.dim() != 2 or len(embeddings) == 0:
        raise ValueError('feature_spread needs (N, D) embeddings with N >= 1,'
                         f' got shape {tuple(embeddings.shape)}')
    mean = embeddings.double().mean(dim=0)
    return float((1.0 - mean.dot(mean)).clamp(min=0.0).sqrt())
