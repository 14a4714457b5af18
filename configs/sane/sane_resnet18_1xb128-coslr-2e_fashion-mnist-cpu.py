# SANE in the CPU recipe (the quality protocol's): the MoCo v2 CPU recipe
# (ResNet-18, 30,000 Fashion-MNIST images, batch 128, 2 epochs, queue 4,096,
# momentum 0.99, T 0.2) with the paper's CIFAR-10 settings for the rest:
# tau' 0.8, mu on a cosine ramp 0 -> 1 over training, momentum mixup with
# theta ~ Beta(2, 2) and random partners, lambda 0.5.
_base_ = '../bsim/bsim-mocov2_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py'

# Momentum mixup: each query view (0) with its partner's key view (1).
data_preprocessor = dict(
    mixer=dict(
        _delete_=True,
        type='InstanceMixer',
        alpha=2.0,
        mode='mixup',
        pairing='random',
        lam_per='batch'),
    mix_views=(0, 1))
model = dict(
    _delete_=True,
    type='SANE',
    queue_len=4096,
    feat_dim=64,
    momentum=0.01,
    label_temperature=0.8,
    mu_start=0.0,
    mu_end=1.0,
    mixup_weight=0.5,
    clean_target='onehot',
    backbone=dict(
        type='ResNet',
        depth=18,
        in_channels=1,
        norm_cfg=dict(type='SplitBN', num_splits=8),
        zero_init_residual=True,
        # Its last stage runs on 1x1 maps: one-pixel outputs as matrix
        # products (the same function, 2.3-2.7x faster steps on AVX2).
        conv_cfg=dict(type='SinglePixelConv2d')),
    neck=dict(
        type='MoCoV2Neck',
        in_channels=512,
        hid_channels=256,
        out_channels=64,
        with_avg_pool=True),
    head=dict(type='SoftTargetContrastiveHead', temperature=0.2))
