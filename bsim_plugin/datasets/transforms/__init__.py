from .intensity import IntensityJitter
from .mixture import MixWithPartner

__all__ = ['IntensityJitter', 'MixWithPartner']
