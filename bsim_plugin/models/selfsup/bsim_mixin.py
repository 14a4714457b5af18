from typing import List, Optional, Tuple

import torch
from mmpretrain.structures import DataSample

from ...utils.validation import check_number
from ..data_preprocessors.mixture_data_preprocessor import \
    MixtureDataPreprocessor
from ..utils.dist import gather_partner_info
from ..utils.mixer import collect_mix_info
from .embedding_predict import EmbeddingPredictMixin


class BSIMMixin(EmbeddingPredictMixin):
    """What every BSIM algorithm adds to its mmpretrain base class.

    A BSIM algorithm is ``class BSIMX(BSIMMixin, X)``: the mixin checks
    ``bsim_weight`` and the data preprocessor, hands out the mixture view
    with its mixing ratios and global partner indices, and (through
    :class:`EmbeddingPredictMixin`) gives the algorithm a ``predict`` mode
    for kNN evaluation. The subclass adds its one loss term.

    Call :meth:`check_bsim_weight` before ``super().__init__`` (bad values
    fail before anything is built) and :meth:`check_mixture_preprocessor`
    after it.
    """

    @classmethod
    def check_bsim_weight(cls, bsim_weight: float) -> float:
        """``bsim_weight`` as a float >= 0, or an error naming it."""
        return check_number(cls.__name__, 'bsim_weight', bsim_weight, ge=0)

    @staticmethod
    def default_data_preprocessor(
            data_preprocessor: Optional[dict]) -> dict:
        return (dict(type='MixtureDataPreprocessor')
                if data_preprocessor is None else data_preprocessor)

    def check_mixture_preprocessor(self, bsim_weight: float) -> None:
        """A positive weight needs a preprocessor that builds the mixture."""
        if bsim_weight > 0 and not isinstance(self.data_preprocessor,
                                              MixtureDataPreprocessor):
            raise TypeError(
                f'{type(self).__name__}: bsim_weight={bsim_weight} needs '
                "data_preprocessor=dict(type='MixtureDataPreprocessor', ...) "
                'to build the mixture view, got '
                f'{type(self.data_preprocessor).__name__}')

    def mixture_view(
        self,
        inputs: List[torch.Tensor],
        data_samples: List[DataSample],
        gather: bool = True
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The mixture images and their ``(lam, partner)``.

        Args:
            inputs (List[Tensor]): the views, the mixture last.
            data_samples (List[DataSample]): carry ``mix_lam`` and
                ``mix_partner``.
            gather (bool): gather ``lam`` and ``partner`` over processes
                (for a loss over the global batch, as SimCLR's); ``False``
                keeps the local ones (for a per-process loss, as MoCo's,
                BYOL's and SimSiam's: a partner is always in the local
                batch). Defaults to True.

        Returns:
            Tuple[Tensor, Tensor, Tensor]: the local ``(n, C, H, W)``
            mixture (the last view appended by
            :class:`MixtureDataPreprocessor`), ``lam`` and partner indices
            (gathered: of the global batch, partners offset to global
            indices; one process: the local ones).
        """
        if len(inputs) < 3:
            raise ValueError(
                f'{type(self).__name__} expects [v1, v2, mixture], got '
                f'{len(inputs)} views: is MixtureDataPreprocessor the '
                'data_preprocessor?')
        lam, partner = collect_mix_info(data_samples)
        if gather:
            lam, partner = gather_partner_info(lam, partner)
        device = inputs[-1].device
        return inputs[-1], lam.to(device), partner.to(device)
