from .mixture_data_preprocessor import MixtureDataPreprocessor

__all__ = ['MixtureDataPreprocessor']
