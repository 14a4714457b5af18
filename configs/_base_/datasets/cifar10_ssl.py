# CIFAR-10 (mmpretrain's CIFAR10, 32x32 RGB) with two SimCLR/MoCo v2-style
# views for pre-training, and a weighted-kNN val/test set: bank = the train
# split, queries = the test split. Put the python version of the data set
# (cifar-10-batches-py) under data/cifar10, or set download=True.
dataset_type = 'CIFAR10'
data_root = 'data/cifar10'
data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255],
    to_rgb=False)

view_pipeline = [
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomApply',
        transforms=[
            dict(
                type='ColorJitter',
                brightness=0.4,
                contrast=0.4,
                saturation=0.4,
                hue=0.1)
        ],
        prob=0.8),
    dict(
        type='RandomGrayscale',
        prob=0.2,
        keep_channels=True,
        channel_weights=(0.114, 0.587, 0.2989)),
]
train_pipeline = [
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=256,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        download=False,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=512,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='KNNEvalDataset',
        bank=dict(
            type=dataset_type,
            data_root=data_root,
            split='train',
            download=False,
            pipeline=test_pipeline),
        query=dict(
            type=dataset_type,
            data_root=data_root,
            split='test',
            test_mode=True,
            download=False,
            pipeline=test_pipeline)))
val_evaluator = dict(type='WeightedKNNAccuracy', k=200, temperature=0.1)
test_dataloader = val_dataloader
test_evaluator = val_evaluator
