# BSIM on MoCo v2 in the CPU recipe: the BSIM-SimCLR CPU recipe's backbone,
# data, augmentations, optimizer and schedule (the quality protocol's), with
# MoCo v2's momentum encoder, MLP neck and a queue of 4,096 keys (the 30,000
# images of an epoch are 234 batches of 128: the queue holds the last 32).
# Momentum 0.99 (mmpretrain writes 1 - m) suits a run of 468 iterations.
# One process: split BatchNorm (8 groups of 16) in both encoders, so that a
# key is not normalised with its own query's batch statistics (MoCo's batch
# shuffle is a plain permutation on one process; with several processes it
# is ShuffleBN and plain BN is enough).
_base_ = './bsim-simclr_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py'

model = dict(
    type='BSIMMoCo',
    queue_len=4096,
    feat_dim=64,
    momentum=0.01,
    backbone=dict(norm_cfg=dict(type='SplitBN', num_splits=8)),
    neck=dict(
        _delete_=True,
        type='MoCoV2Neck',
        in_channels=512,
        hid_channels=256,
        out_channels=64,
        with_avg_pool=True),
    head=dict(temperature=0.2))
# Learning rate: the best of a per-base sweep on the CPU protocol (seed 0,
# 2 epochs; kNN 67.74 / 69.00 / 70.99 / 71.39 at lr 0.025 / 0.05 / 0.1 /
# 0.2; configs/bsim/README.md), kept for MoCo v2 and its methods (BSIM,
# SANE, InterCLR, SePP). The largest value tried; 0.1 -> 0.2 is within one
# seed's spread.
optim_wrapper = dict(optimizer=dict(lr=0.2))
