"""bsim_plugin: beyond-single-instance positive pairs for mmpretrain.

Importing the package registers every component into mmpretrain's
registries (``MODELS``, ``BATCH_AUGMENTS``, ``DATASETS``, ``METRICS``,
``HOOKS``), so configs with ``default_scope='mmpretrain'`` and
``custom_imports=dict(imports=['bsim_plugin'])`` can build them.
"""
from .utils.checkpoint import register_checkpoint_safe_globals
from .utils.compat import fix_mmcv_adjust_hue
from .version import __version__

from . import apis, datasets, engine, evaluation, models  # noqa: E402,F401

register_checkpoint_safe_globals()
fix_mmcv_adjust_hue()

__all__ = ['__version__', 'register_checkpoint_safe_globals']
