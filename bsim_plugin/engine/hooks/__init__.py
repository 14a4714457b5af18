from .atomic_checkpoint_hook import AtomicCheckpointHook
from .initial_validation_hook import InitialValidationHook
from .interclr_memory_hook import InterCLRMemoryHook
from .rng_state_hook import RNGStateHook
from .train_progress_hook import TrainProgressHook
from .weights_only_checkpoint_hook import WeightsOnlyCheckpointHook

__all__ = [
    'AtomicCheckpointHook', 'InitialValidationHook', 'RNGStateHook',
    'WeightsOnlyCheckpointHook', 'InterCLRMemoryHook', 'TrainProgressHook'
]
