from typing import Union

from mmengine.dataset import BaseDataset, ConcatDataset
from mmpretrain.registry import DATASETS

KNN_ROLE_KEY = 'knn_role'


@DATASETS.register_module()
class KNNEvalDataset(ConcatDataset):
    """A kNN evaluation set: a bank (neighbour memory) and the queries.

    Concatenates the two datasets and marks each packed sample's metainfo
    with ``knn_role`` = ``'bank'`` or ``'query'``, which
    :class:`WeightedKNNAccuracy` reads. Both should use a deterministic
    test pipeline ending in ``PackInputs``.

    Args:
        bank (dict | BaseDataset): usually the train split.
        query (dict | BaseDataset): usually the test split.
        lazy_init (bool): as in ``ConcatDataset``. Defaults to False.
    """

    def __init__(self,
                 bank: Union[dict, BaseDataset],
                 query: Union[dict, BaseDataset],
                 lazy_init: bool = False) -> None:
        # Built here from mmpretrain's registry: ConcatDataset would use
        # mmengine's root registry, which finds mmpretrain's datasets only
        # under a default scope.
        parts = [
            d if isinstance(d, BaseDataset) else DATASETS.build(d)
            for d in (bank, query)
        ]
        super().__init__(datasets=parts, lazy_init=lazy_init)

    @property
    def num_bank(self) -> int:
        return len(self.datasets[0])

    def __getitem__(self, idx: int) -> dict:
        data = super().__getitem__(idx)
        role = 'bank' if self._get_ori_dataset_idx(idx)[0] == 0 else 'query'
        data['data_samples'].set_metainfo({KNN_ROLE_KEY: role})
        return data
