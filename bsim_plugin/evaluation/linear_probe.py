"""A fast linear probe on frozen backbone features.

The features are extracted once, without augmentation (each split's own
pipeline: a config's test pipeline), through the model's data preprocessor
and backbone, globally pooled from the last stage; a linear classifier is
then fitted on the standardised training features by full-batch L-BFGS
(multinomial logistic regression with an L2 penalty on the weights). On
Fashion-MNIST's 60,000 x 512 features that takes seconds on a CPU, where the
mmpretrain-style linear config trains the same layer on augmented images
for 20 epochs.
"""
from typing import Dict, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.dataset import BaseDataset
from mmpretrain.registry import DATASETS

from .feature_knn import batched_forward


def _label_of(sample) -> int:
    label = sample.gt_label if hasattr(sample, 'gt_label') else sample[
        'gt_label']
    return int(torch.as_tensor(label).reshape(-1)[0])


def dataset_arrays(dataset: Union[dict, BaseDataset]
                   ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Every item of a data set through its own pipeline, stacked.

    Args:
        dataset (dict | BaseDataset): a classification data set whose
            pipeline ends with ``PackInputs`` (and does no augmentation:
            the test pipeline).

    Returns:
        Tuple[Tensor, Tensor]: ``(N, C, H, W)`` inputs as packed (uint8 for
        images) and ``(N,)`` long labels.
    """
    if isinstance(dataset, dict):
        dataset = DATASETS.build(dataset)
    inputs, labels = [], []
    for idx in range(len(dataset)):
        item = dataset[idx]
        inputs.append(item['inputs'])
        labels.append(_label_of(item['data_samples']))
    return torch.stack(inputs), torch.tensor(labels, dtype=torch.long)


@torch.no_grad()
def backbone_features(model: torch.nn.Module,
                      inputs: torch.Tensor,
                      batch_size: int = 256,
                      progress: bool = False) -> torch.Tensor:
    """Globally pooled last-stage backbone features, in eval mode.

    Each batch goes through ``model.data_preprocessor`` (normalisation; no
    training-time mixing) and ``model.backbone``; a 4-D output is averaged
    over its spatial positions. No L2 normalisation (the kNN's embeddings
    are these features, L2-normalised).

    Returns:
        Tensor: ``(N, D)`` float features on the CPU.
    """
    def pooled(x: torch.Tensor) -> torch.Tensor:
        feats = model.backbone(x)
        feat = feats[-1] if isinstance(feats, (list, tuple)) else feats
        if feat.dim() == 4:
            feat = feat.mean(dim=(2, 3))
        return feat.flatten(1).float()

    return batched_forward(model, inputs, pooled, batch_size, progress)


def fit_linear_probe(features: torch.Tensor,
                     labels: torch.Tensor,
                     num_classes: Optional[int] = None,
                     weight_decay: float = 1e-4,
                     max_iter: int = 300) -> Dict[str, torch.Tensor]:
    """Fit a linear classifier on standardised features by L-BFGS.

    Minimises ``mean cross-entropy(x W + b) + weight_decay / 2 * ||W||^2``
    over all the training features at once (full batch; deterministic), with
    ``x`` the features standardised by the training mean and standard
    deviation.

    Args:
        features (Tensor): ``(N, D)`` training features.
        labels (Tensor): ``(N,)`` long labels.
        num_classes (int, optional): defaults to the largest label + 1.
        weight_decay (float): the L2 penalty on ``W``. Defaults to 1e-4.
        max_iter (int): L-BFGS iterations at most. Defaults to 300.

    Returns:
        dict: ``mean``, ``std`` (the standardisation), ``weight`` (D, C),
        ``bias`` (C,), ``loss`` (the final objective) and ``iterations``.
    """
    if features.dim() != 2 or len(features) != len(labels):
        raise ValueError(f'features must be (N, D) with N labels; got '
                         f'{tuple(features.shape)} and {len(labels)} labels')
    if weight_decay < 0 or max_iter < 1:
        raise ValueError(f'weight_decay must be >= 0 and max_iter >= 1; got '
                         f'{weight_decay} and {max_iter}')
    x = features.float()
    mean = x.mean(dim=0)
    std = x.std(dim=0, unbiased=False).clamp_min(1e-6)
    x = (x - mean) / std
    if num_classes is None:
        num_classes = int(labels.max()) + 1
    weight = torch.zeros(x.shape[1], num_classes, requires_grad=True)
    bias = torch.zeros(num_classes, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias],
                                  lr=1.0,
                                  max_iter=max_iter,
                                  history_size=20,
                                  tolerance_grad=1e-6,
                                  tolerance_change=1e-9,
                                  line_search_fn='strong_wolfe')

    def objective():
        optimizer.zero_grad()
        loss = F.cross_entropy(x @ weight + bias, labels) + \
            0.5 * weight_decay * (weight**2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(objective)
        loss = objective()
    state = optimizer.state[optimizer._params[0]]
    return dict(mean=mean, std=std, weight=weight.detach(),
                bias=bias.detach(), loss=loss.detach(),
                iterations=int(state.get('n_iter', 0)))


def probe_predict(probe: Dict[str, torch.Tensor],
                  features: torch.Tensor) -> torch.Tensor:
    """Class scores of the fitted probe for ``features``."""
    x = (features.float() - probe['mean']) / probe['std']
    return x @ probe['weight'] + probe['bias']


def probe_top1(probe: Dict[str, torch.Tensor], features: torch.Tensor,
               labels: torch.Tensor) -> float:
    """Top-1 accuracy of the probe, in percent."""
    pred = probe_predict(probe, features).argmax(dim=1)
    return float((pred == labels).float().mean() * 100)
