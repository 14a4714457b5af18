# BSIM on SimSiam with a CIFAR-style ResNet-18 (3x3 stem, no max-pool) for
# 32x32 RGB images: mmpretrain's SimSiam layout (3-layer projector whose last
# BN has no affine, bottleneck predictor) at CIFAR widths.
model = dict(
    type='BSIMSimSiam',
    bsim_weight=1.0,
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        in_channels=3,
        norm_cfg=dict(type='BN'),
        zero_init_residual=True),
    neck=dict(
        type='NonLinearNeck',
        in_channels=512,
        hid_channels=512,
        out_channels=512,
        num_layers=3,
        with_last_bn_affine=False,
        with_avg_pool=True),
    head=dict(
        type='LatentPredictHead',
        predictor=dict(
            type='NonLinearNeck',
            in_channels=512,
            hid_channels=128,
            out_channels=512,
            with_avg_pool=False,
            with_last_bn=False,
            with_last_bias=True),
        loss=dict(type='CosineSimilarityLoss')))
