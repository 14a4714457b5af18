from .launch import prepare_config_data, setup_cpu_distributed

__all__ = ['prepare_config_data', 'setup_cpu_distributed']
