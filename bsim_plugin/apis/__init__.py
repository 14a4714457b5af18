from .launch import (prepare_config_data, setup_cpu_distributed,
                     shutdown_distributed)

__all__ = [
    'prepare_config_data', 'setup_cpu_distributed', 'shutdown_distributed'
]
