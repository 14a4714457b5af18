from .soft_target_contrastive_head import SoftTargetContrastiveHead

__all__ = ['SoftTargetContrastiveHead']
