# BSIM on BYOL in the CPU recipe: the BSIM-SimCLR CPU recipe's backbone,
# data, augmentations, optimizer and schedule (the quality protocol's), with
# BYOL's target network (momentum 0.99 rising to 1 on a cosine), projector
# and predictor (mmpretrain's BYOL layout, narrowed as the SimCLR neck is).
_base_ = './bsim-simclr_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py'

model = dict(
    type='BSIMBYOL',
    base_momentum=0.01,
    neck=dict(
        _delete_=True,
        type='NonLinearNeck',
        in_channels=512,
        hid_channels=256,
        out_channels=64,
        num_layers=2,
        with_bias=True,
        with_last_bn=False,
        with_avg_pool=True),
    head=dict(
        _delete_=True,
        type='LatentPredictHead',
        predictor=dict(
            type='NonLinearNeck',
            in_channels=64,
            hid_channels=256,
            out_channels=64,
            num_layers=2,
            with_bias=True,
            with_last_bn=False,
            with_avg_pool=False),
        loss=dict(type='CosineSimilarityLoss')))
# Learning rate: a per-base sweep on the CPU protocol (seed 0, 2 epochs;
# kNN 71.25 / 73.48 / 73.49 at lr 0.05 / 0.1 / 0.2; configs/bsim/README.md):
# 0.1 and 0.2 tie, and the tie keeps the value the BYOL rows were measured
# with.
optim_wrapper = dict(optimizer=dict(lr=0.1))
