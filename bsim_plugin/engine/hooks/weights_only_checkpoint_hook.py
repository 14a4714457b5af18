from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging.history_buffer import HistoryBuffer
from mmpretrain.registry import HOOKS

from .atomic_checkpoint_hook import AtomicCheckpointHook

BUFFER_MARK = '__history_buffer__'


def encode_history_buffers(message_hub_state: dict) -> None:
    """Replace each ``HistoryBuffer`` by its plain data, in place.

    ``HistoryBuffer.__getstate__`` pickles its statistics functions as
    ``getattr(HistoryBuffer, 'min')``; loading that with
    ``weights_only=True`` would need ``getattr`` allow-listed, which would
    let a checkpoint reach any attribute of any allowed object.
    """
    scalars = message_hub_state.get('log_scalars', {})
    for key, buffer in scalars.items():
        if isinstance(buffer, HistoryBuffer):
            log_history, count_history = buffer.data
            scalars[key] = {
                BUFFER_MARK: True,
                'log_history': log_history,
                'count_history': count_history,
                'max_length': buffer.max_length,
            }


def decode_history_buffers(message_hub_state: dict) -> None:
    """Undo :func:`encode_history_buffers`, in place."""
    scalars = message_hub_state.get('log_scalars', {})
    for key, value in scalars.items():
        if isinstance(value, dict) and value.get(BUFFER_MARK):
            scalars[key] = HistoryBuffer(value['log_history'],
                                         value['count_history'],
                                         value['max_length'])


@HOOKS.register_module()
class WeightsOnlyCheckpointHook(Hook):
    """Write checkpoints that load with ``torch.load(weights_only=True)``.

    torch >= 2.6 loads safely by default and mmengine 0.10.7 relies on that
    default. The only object in an mmengine checkpoint that safe loading
    cannot take without allow-listing ``getattr`` is the message hub's
    ``HistoryBuffer``; this hook stores it as plain arrays and rebuilds it
    when a checkpoint is loaded (before mmengine's resume reads it). The
    NumPy array classes are allow-listed when the plugin is imported.

    Every config with the plugin's runtime has this hook, also those that
    inherit mmpretrain's runtime (and its plain ``CheckpointHook``, which a
    second base file cannot override). So it also makes that
    ``CheckpointHook`` an :class:`AtomicCheckpointHook` before the run: the
    same settings, written atomically, and a resume that refuses another
    run's checkpoint.
    """
    priority = 'VERY_LOW'

    def before_run(self, runner) -> None:
        for hook in runner.hooks:
            if type(hook) is CheckpointHook:
                # The subclass adds methods only, no state.
                hook.__class__ = AtomicCheckpointHook
                runner.logger.info(
                    'WeightsOnlyCheckpointHook: CheckpointHook writes '
                    'atomically (AtomicCheckpointHook)')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if 'message_hub' in checkpoint:
            encode_history_buffers(checkpoint['message_hub'])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if 'message_hub' in checkpoint:
            decode_history_buffers(checkpoint['message_hub'])
