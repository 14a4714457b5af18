from .hooks import (InitialValidationHook, RNGStateHook,
                    WeightsOnlyCheckpointHook)

__all__ = [
    'InitialValidationHook', 'RNGStateHook', 'WeightsOnlyCheckpointHook'
]
