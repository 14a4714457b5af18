# Detection-transfer smoke run on the CPU: the VOC C4 transfer config
# (pytorch-style backbone, extra norm after res5, res2-res4 loaded strictly
# into the backbone) with the CPU recipe's grey ResNet-18, on Fashion-MNIST
# items pasted on 112 px canvases
# (tools/benchmarks/mmdetection/make_fashion_detection.py), VOC format,
# 300 iterations at batch 4, BN instead of SyncBN, VOC07 11-point mAP.
# Smoke scale, sized for 2 CPU cores (a C4 head runs res5 on every RoI:
# 64 sampled RoIs per image, 7x7 RoIAlign, 100 proposals per test image):
# it checks the chain, it is not a transfer benchmark.
#   python tools/benchmarks/mmdetection/make_fashion_detection.py \
#       data/fashion_det
#   python tools/benchmarks/mmdetection/train.py THIS_CONFIG backbone.pth \
#       --work-dir work_dirs/fashion_det
_base_ = '../voc0712/faster-rcnn_r50-c4_ms-24k_voc0712.py'

classes = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal',
           'Shirt', 'Sneaker', 'Bag', 'Ankle boot')
data_root = 'data/fashion_det/'
# The CPU recipe pre-trains on 28 px images with the ImageNet stem: res5
# only ever sees 1x1 maps and its blocks' last BN weights stay near 0
# (zero_init_residual), so an imported res5 arrives switched off. One seed
# each, 300 iterations: res2-res5 imported 17.4 % mAP against 35.1 % from
# random init; res2-res4 imported, res5 from mmdet's init, 52.9 % against
# 36.2 %. Import res2-res4 only.
pretrained_prefixes = dict(
    backbone=['conv1.', 'bn1.', 'layer1.', 'layer2.', 'layer3.'],
    roi_head=[])
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(
        mean=[72.94], std=[90.0], bgr_to_rgb=False, pad_size_divisor=32),
    backbone=dict(depth=18, in_channels=1, norm_cfg=norm_cfg),
    rpn_head=dict(
        in_channels=256,
        feat_channels=256,
        anchor_generator=dict(scales=[2, 4, 8])),
    roi_head=dict(
        # res5: mmdet's initialisation (pretrained_prefixes.roi_head=[]).
        shared_head=dict(depth=18, norm_cfg=norm_cfg, init_cfg=None),
        bbox_roi_extractor=dict(
            out_channels=256, roi_layer=dict(output_size=7)),
        bbox_head=dict(
            in_channels=512, roi_feat_size=4, num_classes=len(classes))),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=2000, max_per_img=300),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=1000, max_per_img=100)))

train_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(224, 224), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='Resize', scale=(224, 224), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor')),
]
train_dataloader = dict(
    _delete_=True,
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='VOCDataset',
        data_root=data_root,
        ann_file='voc/ImageSets/Main/trainval.txt',
        data_prefix=dict(sub_data_root='voc/'),
        metainfo=dict(classes=classes),
        filter_cfg=dict(filter_empty_gt=True, min_size=4),
        pipeline=train_pipeline))
val_dataloader = dict(
    _delete_=True,
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='VOCDataset',
        data_root=data_root,
        ann_file='voc/ImageSets/Main/test.txt',
        data_prefix=dict(sub_data_root='voc/'),
        metainfo=dict(classes=classes),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='VOCMetric', metric='mAP', eval_mode='11points')
test_evaluator = val_evaluator

max_iter = 300
train_cfg = dict(max_iters=max_iter, val_interval=max_iter)
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
        end=50),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iter,
        by_epoch=False,
        milestones=[240],
        gamma=0.1)
]
optim_wrapper = dict(optimizer=dict(lr=0.01))
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=max_iter),
    logger=dict(interval=25))
