from .checkpoint import (checkpoint_safe_globals,
                         register_checkpoint_safe_globals)
from .neighbours import cosine_topk, faiss_available
from .validation import check_int, check_number

__all__ = [
    'checkpoint_safe_globals', 'register_checkpoint_safe_globals',
    'check_number', 'check_int', 'cosine_topk', 'faiss_available'
]
