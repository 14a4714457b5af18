# mmpretrain's runtime plus the plugin's (for configs not inheriting a full
# mmpretrain algorithm config).
_base_ = ['mmpretrain::_base_/default_runtime.py', './plugin_runtime.py']

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    # mmengine's CheckpointHook, writing atomically (see
    # bsim_plugin/engine/hooks/atomic_checkpoint_hook.py).
    checkpoint=dict(
        type='AtomicCheckpointHook', interval=1, max_keep_ckpts=3))
log_processor = dict(by_epoch=True)
