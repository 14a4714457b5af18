# BSIM-SimCLR with a CIFAR-style ResNet-18 (3x3 stem, no max-pool) for small
# grey images. Width: base_channels (64 = the standard ResNet-18).
model = dict(
    type='BSIMSimCLR',
    bsim_weight=1.0,
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        in_channels=1,
        base_channels=64,
        norm_cfg=dict(type='BN'),
        zero_init_residual=True),
    neck=dict(
        type='NonLinearNeck',
        in_channels=512,
        hid_channels=512,
        out_channels=128,
        num_layers=2,
        with_avg_pool=True,
        norm_cfg=dict(type='BN1d')),
    head=dict(type='SoftTargetContrastiveHead', temperature=0.2))
