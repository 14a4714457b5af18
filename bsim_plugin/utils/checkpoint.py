"""Keep torch's safe checkpoint loading working with mmengine's checkpoints.

torch >= 2.6 loads with ``weights_only=True`` by default, and mmengine
0.10.7 calls ``torch.load`` without the argument. Its checkpoints hold NumPy
arrays (loss histories, NumPy random states), so resuming fails with
"Unsupported global" (upstream: open-mmlab/mmengine issue 1655). Rather than
turning safe loading off (which would let a checkpoint run code), this module
allow-lists exactly the NumPy array classes; ``WeightsOnlyCheckpointHook``
takes care of the one object that would need ``getattr`` (HistoryBuffer).
"""
import numpy as np
import torch


def _numpy_globals() -> list:
    core = getattr(np, '_core', None) or np.core  # numpy 2.x / 1.x
    found = [
        np.ndarray, np.dtype, core.multiarray._reconstruct,
        core.multiarray.scalar
    ]
    # The dtype classes pickled with arrays, e.g. numpy.dtypes.Float64DType.
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        found += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType')
        ]
    return found


def checkpoint_safe_globals() -> list:
    """The exact classes mmengine checkpoints need beyond tensors."""
    return _numpy_globals()


def register_checkpoint_safe_globals() -> None:
    """Allow-list :func:`checkpoint_safe_globals` for ``weights_only`` loads.

    Idempotent; a no-op on torch without ``add_safe_globals``.
    """
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is not None:
        add(checkpoint_safe_globals())
