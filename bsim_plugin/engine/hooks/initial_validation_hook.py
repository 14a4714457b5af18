from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class InitialValidationHook(Hook):
    """Run the val loop once before the first training iteration.

    Gives the metric of the initialised (untrained) model, logged at epoch 0
    and step 0: the baseline a self-supervised run has to beat (random
    features already score well under kNN on small data sets). Skipped when
    a run is resumed.
    """
    priority = 'LOWEST'

    def before_train(self, runner) -> None:
        if runner.iter == 0 and runner.val_loop is not None:
            runner.val_loop.run()
