"""The mixture view, as every algorithm that trains on mixtures reads it.

:class:`MixtureDataPreprocessor` (batch form) or :class:`MixWithPartner`
(pipeline form) builds a mixture of each sample with a partner and records
``(lam, partner)`` in the data samples; :class:`MixtureViewMixin` hands the
algorithm the mixture images with that information. BSIM (all four bases)
and SANE's momentum mixup use it.
"""
from typing import List, NamedTuple, Optional

import torch
from mmpretrain.structures import DataSample

from ..data_preprocessors.mixture_data_preprocessor import \
    MixtureDataPreprocessor
from ..utils.dist import gather_partner_info
from ..utils.mixer import PIPELINE_PARTNER, collect_mix_info
from .embedding_predict import EmbeddingPredictMixin


class MixtureView(NamedTuple):
    """What :meth:`MixtureViewMixin.mixture_view` returns.

    Attributes:
        images (Tensor): ``(n, C, H, W)`` the local mixtures.
        lam (Tensor): ``(M,)`` share of each sample's own image.
        partner (Tensor): ``(M,)`` long, the partner of each sample: a batch
            index (batch form) or a row of ``partner_views`` (pipeline form).
        partner_views (Tensor, optional): ``(n, C, H, W)`` the partners' key
            views (pipeline form only).
    """
    images: torch.Tensor
    lam: torch.Tensor
    partner: torch.Tensor
    partner_views: Optional[torch.Tensor] = None


class MixtureViewMixin(EmbeddingPredictMixin):
    """Checks of the data preprocessor and access to the mixture view.

    Also gives the algorithm (through :class:`EmbeddingPredictMixin`) a
    ``predict`` mode for kNN evaluation.
    """

    @staticmethod
    def default_data_preprocessor(
            data_preprocessor: Optional[dict]) -> dict:
        return (dict(type='MixtureDataPreprocessor')
                if data_preprocessor is None else data_preprocessor)

    def check_mixture_preprocessor(self,
                                   weight: float,
                                   name: str = 'bsim_weight') -> None:
        """A positive ``weight`` (config key ``name``) of a mixture term
        needs a preprocessor that builds the mixture."""
        if weight > 0 and not isinstance(self.data_preprocessor,
                                         MixtureDataPreprocessor):
            raise TypeError(
                f'{type(self).__name__}: {name}={weight} needs '
                "data_preprocessor=dict(type='MixtureDataPreprocessor', ...) "
                'to build the mixture view, got '
                f'{type(self.data_preprocessor).__name__}')

    def mixture_view(self,
                     inputs: List[torch.Tensor],
                     data_samples: List[DataSample],
                     gather: bool = True) -> MixtureView:
        """The mixture images, their ``(lam, partner)`` and, in the pipeline
        form, the partners' key views.

        Batch form (:class:`MixtureDataPreprocessor` with a mixer): the
        mixture is the last of ``inputs`` (``[v1, v2, mixture]``, or
        ``[v1, v2, v3, mixture]`` for a third view) and ``partner`` indexes
        the batch. Pipeline form (:class:`MixWithPartner`): inputs are
        ``[v1, v2, mixture, partners' key views]``, every ``mix_partner`` is
        ``-1`` and ``partner`` indexes ``partner_views`` (row ``i``: sample
        ``i``'s partner).

        Args:
            inputs (List[Tensor]): the views, the mixture after the clean
                ones.
            data_samples (List[DataSample]): carry ``mix_lam`` and
                ``mix_partner``.
            gather (bool): gather ``lam`` and ``partner`` over processes
                (for a loss over the global batch, as SimCLR's); ``False``
                keeps the local ones (for a per-process loss, as MoCo's,
                BYOL's and SimSiam's: a partner is always in the local
                batch or in ``partner_views``). Defaults to True.

        Returns:
            MixtureView: local mixture (and partner views); ``lam`` and
            ``partner`` of the global batch when gathered (partners offset
            to global indices), else the local ones.
        """
        name = type(self).__name__
        lam, partner = collect_mix_info(data_samples)
        pipeline_form = partner == PIPELINE_PARTNER
        if pipeline_form.any() and not pipeline_form.all():
            raise ValueError(
                f'{name}: a batch mixes batch-form and pipeline-form '
                'mixtures (mix_partner = -1 for some samples only)')
        pipeline_form = bool(pipeline_form.all())
        need = 4 if pipeline_form else 3
        if len(inputs) < need:
            raise ValueError(
                f'{name} expects '
                + ('[v1, v2, mixture, partner key view] (MixWithPartner)'
                   if pipeline_form else
                   '[v1, v2, mixture] (MixtureDataPreprocessor)') +
                f', got {len(inputs)} views')
        if pipeline_form:
            partner = torch.arange(len(lam))
        if gather:
            lam, partner = gather_partner_info(lam, partner)
        device = inputs[0].device
        return MixtureView(
            images=inputs[2] if pipeline_form else inputs[-1],
            lam=lam.to(device),
            partner=partner.to(device),
            partner_views=inputs[3] if pipeline_form else None)
