from .bsim_simclr import BSIMSimCLR
from .embedding_predict import EmbeddingPredictMixin

__all__ = ['BSIMSimCLR', 'EmbeddingPredictMixin']
