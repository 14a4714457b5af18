from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class TrainProgressHook(Hook):
    """Tell the model where training stands, before every iteration.

    Algorithms whose loss follows the schedule (SANE's refinery ramp,
    InterCLR's warm-up and centroid interval) read their own
    ``train_progress`` attribute, ``(iter, max_iters)``; this hook sets it
    from the runner before each training iteration, as mmpretrain's
    ``DenseCLHook`` sets DenseCL's loss weight. The runner's ``iter`` is
    restored on resume, so a resumed run continues the schedule exactly.
    Models without the attribute are left alone. It is in the plugin's
    runtime base (``configs/_base_/plugin_runtime.py``).
    """

    priority = 'NORMAL'

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if hasattr(model, 'train_progress'):
            model.train_progress = (runner.iter, runner.max_iters)
