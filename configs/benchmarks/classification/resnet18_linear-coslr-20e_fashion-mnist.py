# Fashion-MNIST linear evaluation of the CPU recipe's ResNet-18 (ImageNet
# stem, 1 channel): frozen backbone with BN in eval mode, a linear layer on
# the pooled 512-d features, SGD with a cosine schedule, 20 epochs, top-1 on
# the whole test split. Not tuned here. Set the checkpoint (pre-training or
# exported backbone):
#   --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/.../epoch_2.pth
_base_ = ['../../_base_/default_runtime.py']

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet',
        depth=18,
        in_channels=1,
        frozen_stages=4,
        norm_eval=True,
        init_cfg=dict(type='StrictPretrained', checkpoint='')),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss'),
        topk=(1, )))
data_preprocessor = dict(
    num_classes=10, mean=[72.94], std=[90.0], to_rgb=False)

dataset_type = 'FashionMNIST'
data_root = 'data/fashion_mnist'
train_dataloader = dict(
    batch_size=256,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        download=False,
        pipeline=[
            dict(type='RandomResizedCrop', scale=28,
                 crop_ratio_range=(0.6, 1.0)),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PackInputs'),
        ]))
val_dataloader = dict(
    batch_size=512,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        test_mode=True,
        download=False,
        pipeline=[dict(type='PackInputs')]))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=1.0, momentum=0.9, weight_decay=0.))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=20, T_max=20)
]
train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=5)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=1))
