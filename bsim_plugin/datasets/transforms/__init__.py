from .intensity import IntensityJitter

__all__ = ['IntensityJitter']
