from .bsim_latent import BSIMBYOL, BSIMSimSiam, LatentBSIMMixin
from .bsim_moco import BSIMMoCo
from .bsim_simclr import BSIMSimCLR
from .embedding_predict import EmbeddingPredictMixin
from .interclr_moco import InterCLRMoCo
from .mixture_view import MixtureView, MixtureViewMixin
from .moco_keys import MoCoKeysMixin
from .sane import SANE

__all__ = [
    'LatentBSIMMixin', 'BSIMSimCLR', 'BSIMMoCo', 'BSIMBYOL',
    'BSIMSimSiam', 'EmbeddingPredictMixin', 'MixtureView', 'MixtureViewMixin',
    'MoCoKeysMixin', 'SANE', 'InterCLRMoCo'
]
