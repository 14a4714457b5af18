from .launch import (prepare_config_data, setup_cpu_distributed,
                     shutdown_distributed)
from .quiet import silence_pkg_resources_warning

__all__ = [
    'prepare_config_data', 'setup_cpu_distributed', 'shutdown_distributed',
    'silence_pkg_resources_warning'
]
