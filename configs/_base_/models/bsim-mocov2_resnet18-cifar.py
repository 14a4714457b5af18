# BSIM on MoCo v2 with a CIFAR-style ResNet-18 (3x3 stem, no max-pool) for
# 32x32 RGB images: MoCo v2's MLP neck, a queue of 4,096 keys, momentum 0.99
# (mmpretrain writes 1 - m), temperature 0.2.
model = dict(
    type='BSIMMoCo',
    bsim_weight=1.0,
    queue_len=4096,
    feat_dim=128,
    momentum=0.01,
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        in_channels=3,
        norm_cfg=dict(type='SplitBN', num_splits=8),
        zero_init_residual=True),
    neck=dict(
        type='MoCoV2Neck',
        in_channels=512,
        hid_channels=512,
        out_channels=128,
        with_avg_pool=True),
    head=dict(type='SoftTargetContrastiveHead', temperature=0.2))
