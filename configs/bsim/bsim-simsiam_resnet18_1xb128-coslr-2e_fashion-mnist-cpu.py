# BSIM on SimSiam in the CPU recipe: the BSIM-SimCLR CPU recipe's backbone,
# data, augmentations, optimizer and schedule (the quality protocol's), with
# SimSiam's 3-layer projector (last BN without affine) and bottleneck
# predictor (mmpretrain's SimSiam layout, narrowed as the SimCLR neck is).
# The predictor shares the schedule here (mmpretrain's SimSiamHook fixes its
# learning rate in the ImageNet config).
_base_ = './bsim-simclr_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py'

model = dict(
    type='BSIMSimSiam',
    neck=dict(
        _delete_=True,
        type='NonLinearNeck',
        in_channels=512,
        hid_channels=256,
        out_channels=256,
        num_layers=3,
        with_last_bn_affine=False,
        with_avg_pool=True),
    head=dict(
        _delete_=True,
        type='LatentPredictHead',
        predictor=dict(
            type='NonLinearNeck',
            in_channels=256,
            hid_channels=64,
            out_channels=256,
            with_avg_pool=False,
            with_last_bn=False,
            with_last_bias=True),
        loss=dict(type='CosineSimilarityLoss')))
# Learning rate: the best of a per-base sweep on the CPU protocol (seed 0,
# 2 epochs; kNN 68.93 / 70.51 / 72.78 / 73.87 at lr 0.025 / 0.05 / 0.1 /
# 0.2; configs/bsim/README.md), kept for SimSiam and its methods (BSIM,
# SePP). The largest value tried.
optim_wrapper = dict(optimizer=dict(lr=0.2))
