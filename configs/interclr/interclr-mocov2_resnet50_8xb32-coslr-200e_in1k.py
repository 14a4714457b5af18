# InterCLR on MoCo v2, ResNet-50, ImageNet-1k, 8 GPUs x 32, 200 epochs, the
# official settings: queue 65,536, momentum 0.999, temperature 0.2, 10,000
# clusters, min cluster 20, 16,384 semi-hard negatives from a pool of
# 128,000, inter cosine margin -0.5, weights 0.75 / 0.25, centroids every 10
# iterations. Everything else is mmpretrain's MoCo v2 recipe, inherited.
# The memory is filled before training (momentum-encoder features of the
# 1,281,167 training images, resized and centre-cropped, then k-means).
_base_ = [
    'mmpretrain::mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py',
    '../_base_/plugin_runtime.py',
]

model = dict(
    type='InterCLRMoCo',
    head=dict(
        _delete_=True, type='SoftTargetContrastiveHead', temperature=0.2),
    inter_head=dict(
        type='SoftTargetContrastiveHead',
        temperature=0.2,
        margin=-0.5,
        margin_type='cosine'),
    memory=dict(length=1281167, num_clusters=10000, momentum=1.0,
                min_cluster=20),
    num_negatives=16384,
    negative_strategy='semihard',
    negative_pool=128000,
    intra_weight=0.75,
    inter_weight=0.25,
    centroid_interval=10)
custom_hooks = [
    dict(type='WeightsOnlyCheckpointHook'),
    dict(type='RNGStateHook'),
    dict(type='TrainProgressHook'),
    dict(
        type='InterCLRMemoryHook',
        batch_size=256,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='ResizeEdge', scale=256, edge='short'),
            dict(type='CenterCrop', crop_size=224),
            dict(type='PackInputs'),
        ]),
]
