# SANE on MoCo v2, CIFAR-style ResNet-18, CIFAR-10, 1 process x 256,
# 200 epochs, with the paper's CIFAR-10 settings: tau 0.2, tau' 0.8, queue
# 4,096, mu 0 -> 1 (cosine), theta ~ Beta(2, 2), lambda 0.5. Weighted kNN
# (k=200, T=0.1) on the test split every 10 epochs.
_base_ = '../bsim/bsim-mocov2_resnet18-cifar_1xb256-coslr-200e_cifar10.py'

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
    feat_dim=128,
    momentum=0.01,
    label_temperature=0.8,
    mu_start=0.0,
    mu_end=1.0,
    mixup_weight=0.5,
    clean_target='onehot',
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
