# BSIM-SimCLR on your own unlabelled images: copy this file, point
# data_root at a folder of images (any depth of sub-folders; jpg, png, ...),
# and train:
#   python tools/train.py my_config.py \
#       --cfg-options train_dataloader.dataset.data_root=data/my_images
# ResNet-18 at 224 px, 1 process x 64, SimCLR's colour augmentations, 100
# epochs; no labels, so no validation. For several GPUs scale the batch
# (auto_scale_lr) and set SyncBN.
_base_ = [
    '../_base_/models/bsim-simclr_resnet18-cifar.py',
    '../_base_/schedules/sgd_coslr.py',
    '../_base_/default_runtime.py',
]

data_root = 'data/my_images'
data_preprocessor = dict(
    type='MixtureDataPreprocessor',
    mixer=dict(type='InstanceMixer', alpha=1.0, mode='mixup'),
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNet',
        depth=18,
        norm_cfg=dict(type='BN'),
        zero_init_residual=True),
    head=dict(temperature=0.1))

view_pipeline = [
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomApply',
        transforms=[
            dict(
                type='ColorJitter',
                brightness=0.8,
                contrast=0.8,
                saturation=0.8,
                hue=0.2)
        ],
        prob=0.8),
    dict(
        type='RandomGrayscale',
        prob=0.2,
        keep_channels=True,
        channel_weights=(0.114, 0.587, 0.2989)),
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 2.0),
        magnitude_std='inf',
        prob=0.5),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CustomDataset',
        data_root=data_root,
        with_label=False,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
            dict(type='PackInputs'),
        ]))
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None

param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=100,
         T_max=99, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=100, val_interval=1000)
