# BSIM on BYOL with a CIFAR-style ResNet-18 (3x3 stem, no max-pool) for
# 32x32 RGB images: mmpretrain's BYOL projector/predictor layout at 512-wide
# hidden layers, target momentum 0.99 rising to 1 on a cosine.
model = dict(
    type='BSIMBYOL',
    bsim_weight=1.0,
    base_momentum=0.01,
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
        out_channels=128,
        num_layers=2,
        with_bias=True,
        with_last_bn=False,
        with_avg_pool=True),
    head=dict(
        type='LatentPredictHead',
        predictor=dict(
            type='NonLinearNeck',
            in_channels=128,
            hid_channels=512,
            out_channels=128,
            num_layers=2,
            with_bias=True,
            with_last_bn=False,
            with_avg_pool=False),
        loss=dict(type='CosineSimilarityLoss')))
