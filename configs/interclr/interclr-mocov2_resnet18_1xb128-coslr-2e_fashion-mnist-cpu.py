# InterCLR on MoCo v2 in the CPU recipe (the quality protocol's): the MoCo v2
# CPU recipe (ResNet-18, 30,000 Fashion-MNIST images, batch 128, 2 epochs,
# queue 4,096, T 0.2) plus the inter-image branch: a memory of the 30,000
# images in 200 pseudo-classes (about 150 images each; ImageNet's 10,000
# clusters hold about 128), min cluster 20, 4,096 semi-hard negatives from
# the 8,192 most similar entries of other labels, cosine margin -0.5 on the
# inter positive, weights 0.75 / 0.25, centroids every 10 iterations. Not
# tuned. The memory is filled before training by InterCLRMemoryHook.
_base_ = '../bsim/mocov2_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py'

model = dict(
    _delete_=True,
    type='InterCLRMoCo',
    queue_len=4096,
    feat_dim=64,
    momentum=0.01,
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
    head=dict(type='SoftTargetContrastiveHead', temperature=0.2),
    inter_head=dict(
        type='SoftTargetContrastiveHead',
        temperature=0.2,
        margin=-0.5,
        margin_type='cosine'),
    memory=dict(length=30000, num_clusters=200, momentum=1.0,
                min_cluster=20),
    num_negatives=4096,
    negative_strategy='semihard',
    negative_pool=8192,
    intra_weight=0.75,
    inter_weight=0.25,
    warmup_iters=0,
    centroid_interval=10)
custom_hooks = [
    dict(type='WeightsOnlyCheckpointHook'),
    dict(type='RNGStateHook'),
    dict(type='TrainProgressHook'),
    dict(type='InterCLRMemoryHook', batch_size=512, interval=20),
]
