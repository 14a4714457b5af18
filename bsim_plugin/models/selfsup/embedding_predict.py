from typing import List, Optional, Union

import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

EMBEDDING_FIELD = 'embedding'


class EmbeddingPredictMixin:
    """Adds ``mode='predict'`` to a self-supervised algorithm.

    mmpretrain's ``BaseSelfSupervisor`` only has ``'tensor'`` and ``'loss'``
    modes, so its val loop cannot run. With this mixin (put it before the
    algorithm class in the bases) ``predict`` pools the last backbone stage
    globally, L2-normalises it and stores it in each data sample's
    ``embedding`` field, which :class:`WeightedKNNAccuracy` reads.
    """

    def forward(self,
                inputs: Union[torch.Tensor, List[torch.Tensor]],
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        return super().forward(inputs, data_samples, mode)

    @torch.no_grad()
    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """``(N, D)`` L2-normalised, globally pooled last-stage features."""
        feats = self.extract_feat(inputs)
        feat = feats[-1] if isinstance(feats, (tuple, list)) else feats
        if feat.dim() == 4:
            feat = feat.mean(dim=(2, 3))
        return F.normalize(feat.flatten(1), dim=1)

    def predict(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[DataSample]] = None
                ) -> List[DataSample]:
        if isinstance(inputs, list):
            inputs = inputs[0]
        embeddings = self.embed(inputs)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(len(embeddings))]
        for sample, embedding in zip(data_samples, embeddings):
            sample.set_field(embedding, EMBEDDING_FIELD)
        return data_samples
