from .bsim_mixin import BSIMMixin
from .bsim_simclr import BSIMSimCLR
from .embedding_predict import EmbeddingPredictMixin

__all__ = ['BSIMMixin', 'BSIMSimCLR', 'EmbeddingPredictMixin']
