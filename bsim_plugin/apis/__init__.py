from .evaluation_weights import load_evaluation_weights, model_with_backbone
from .launch import (prepare_config_data, setup_cpu_distributed,
                     shutdown_distributed)
from .quiet import silence_pkg_resources_warning

__all__ = [
    'load_evaluation_weights', 'model_with_backbone', 'prepare_config_data',
    'setup_cpu_distributed', 'shutdown_distributed',
    'silence_pkg_resources_warning'
]
