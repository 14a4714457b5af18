"""What the algorithms check when they are built, in one place.

Every BSIM algorithm calls :func:`checked_bsim_weight` before its base class
is built (a bad value fails before anything is built) and :func:`init_bsim`
after it. SANE and InterCLR use the head check too, and read the training
schedule through :func:`checked_progress`.
"""
from typing import Callable, Optional, Tuple

from mmpretrain.models.losses import CosineSimilarityLoss

from ...utils.validation import check_number
from ..heads.soft_target_contrastive_head import SoftTargetContrastiveHead


def checked_bsim_weight(owner: str, bsim_weight) -> float:
    """``bsim_weight`` as a float >= 0, or an error naming it."""
    return check_number(owner, 'bsim_weight', bsim_weight, ge=0)


def require_soft_target_head(model, *names: str) -> None:
    """Contrastive algorithms score their keys with
    :class:`SoftTargetContrastiveHead`: each of the heads ``names``
    (default ``'head'``) must be one."""
    for name in names or ('head', ):
        head = getattr(model, name)
        if not isinstance(head, SoftTargetContrastiveHead):
            raise TypeError(
                f'{type(model).__name__}: {name} must be a '
                f'SoftTargetContrastiveHead, got {type(head).__name__}')


def require_latent_head(model) -> None:
    """BYOL and SimSiam predict with mmpretrain's ``LatentPredictHead`` and
    its ``CosineSimilarityLoss``."""
    loss_module = getattr(model.head, 'loss_module', None)
    if not hasattr(model.head, 'predictor') or not isinstance(
            loss_module, CosineSimilarityLoss):
        raise TypeError(
            f'{type(model).__name__}: head must be a LatentPredictHead with '
            f'a CosineSimilarityLoss, got {type(model.head).__name__} with '
            f'{type(loss_module).__name__}')


def init_bsim(model,
              bsim_weight: float,
              check_head: Callable = require_soft_target_head) -> None:
    """The checks after a BSIM algorithm's base class is built: its head,
    and a preprocessor that builds the mixture when ``bsim_weight > 0``;
    then sets ``model.bsim_weight``."""
    check_head(model)
    model.check_mixture_preprocessor(bsim_weight)
    model.bsim_weight = bsim_weight


def checked_progress(model) -> Tuple[int, Optional[int]]:
    """``model.train_progress``, ``(iter, max_iters)``, set before every
    iteration by :class:`TrainProgressHook`; an algorithm whose loss follows
    the schedule refuses to train without it (it would silently stay at
    iteration 0)."""
    progress = getattr(model, 'train_progress', None)
    if progress is None:
        raise RuntimeError(
            f'{type(model).__name__} follows the training schedule and '
            "needs dict(type='TrainProgressHook') in custom_hooks (the "
            "plugin's configs/_base_/plugin_runtime.py has it); outside a "
            'Runner set model.train_progress = (iter, max_iters)')
    return int(progress[0]), progress[1]
