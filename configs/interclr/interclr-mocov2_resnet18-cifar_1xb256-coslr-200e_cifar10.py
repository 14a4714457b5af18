# InterCLR on MoCo v2, CIFAR-style ResNet-18, CIFAR-10, 1 process x 256,
# 200 epochs: the plugin's CIFAR-10 MoCo v2 recipe plus the inter branch,
# a memory of the 50,000 images in 400 pseudo-classes (about 125 each, as
# ImageNet's 10,000), min cluster 20, 4,096 semi-hard negatives from the
# 16,384 most similar of other labels, cosine margin -0.5, weights
# 0.75 / 0.25. Not tuned.
_base_ = '../bsim/bsim-mocov2_resnet18-cifar_1xb256-coslr-200e_cifar10.py'

data_preprocessor = dict(
    _delete_=True,
    type='SelfSupDataPreprocessor',
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255],
    to_rgb=False)
model = dict(
    _delete_=True,
    type='InterCLRMoCo',
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
    head=dict(type='SoftTargetContrastiveHead', temperature=0.2),
    inter_head=dict(
        type='SoftTargetContrastiveHead',
        temperature=0.2,
        margin=-0.5,
        margin_type='cosine'),
    memory=dict(length=50000, num_clusters=400, momentum=1.0,
                min_cluster=20),
    num_negatives=4096,
    negative_strategy='semihard',
    negative_pool=16384,
    intra_weight=0.75,
    inter_weight=0.25,
    centroid_interval=10)
custom_hooks = [
    dict(type='WeightsOnlyCheckpointHook'),
    dict(type='RNGStateHook'),
    dict(type='TrainProgressHook'),
    dict(type='InterCLRMemoryHook', batch_size=512, interval=50),
]
