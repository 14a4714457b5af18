# Makes the plugin's components visible, writes checkpoints that load with
# torch's safe weights_only loading, and resumes exactly (the random states
# of all processes are saved with every checkpoint). Add it to the _base_ of
# any mmpretrain config.
custom_imports = dict(imports=['bsim_plugin'], allow_failed_imports=False)
custom_hooks = [
    dict(type='WeightsOnlyCheckpointHook'),
    dict(type='RNGStateHook'),
    # Sets the schedule position on the model (SANE, InterCLR).
    dict(type='TrainProgressHook'),
]
