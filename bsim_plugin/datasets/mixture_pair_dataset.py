import copy
from typing import List, Union

import numpy as np
from mmcv.transforms import Compose
from mmpretrain.registry import DATASETS, TRANSFORMS

from .transforms.mixture import MIX_RESULTS_KEY, MixWithPartner


@DATASETS.register_module()
class MixturePairDataset:
    """Serve every sample with a partner sample for a per-sample mixture.

    The pipeline form of BSIM's mixture (mmdet's ``MultiImageMixDataset``
    pattern): the wrapped dataset's pipeline makes the views (``MultiView``,
    no ``PackInputs``); this wrapper draws a partner ``j != i`` uniformly,
    puts the partner's results under ``results['mix_results']`` and runs its
    own pipeline, which must contain :class:`MixWithPartner` and end with
    ``PackInputs(algorithm_keys=['mix_lam', 'mix_partner'])``.

    The partner is drawn with NumPy's global generator, which mmengine seeds
    per dataloader worker from the run's seed.

    Args:
        dataset (dict | Dataset): the dataset to wrap.
        pipeline (List[dict]): the transforms after the views are made.
    """

    def __init__(self, dataset: Union[dict, object],
                 pipeline: List[dict]) -> None:
        self.dataset = (DATASETS.build(dataset)
                        if isinstance(dataset, dict) else dataset)
        self.pipeline = Compose([
            TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in pipeline
        ])
        if not any(isinstance(t, MixWithPartner)
                   for t in self.pipeline.transforms):
            raise ValueError(
                'MixturePairDataset: the pipeline has no MixWithPartner '
                'transform, got '
                f'{[type(t).__name__ for t in self.pipeline.transforms]}')
        if len(self.dataset) < 2:
            raise ValueError('MixturePairDataset needs at least 2 samples, '
                             f'the dataset has {len(self.dataset)}')

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(getattr(self.dataset, 'metainfo', {}))

    def __len__(self) -> int:
        return len(self.dataset)

    def partner_index(self, idx: int) -> int:
        """A uniformly drawn index other than ``idx``."""
        j = int(np.random.randint(len(self.dataset) - 1))
        return j + 1 if j >= idx else j

    def __getitem__(self, idx: int) -> dict:
        results = copy.copy(self.dataset[idx])
        results[MIX_RESULTS_KEY] = [self.dataset[self.partner_index(idx)]]
        return self.pipeline(results)
