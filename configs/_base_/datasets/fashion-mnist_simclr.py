# Fashion-MNIST (28x28 grey) with two SimCLR-style views for pre-training and
# a weighted-kNN val/test set: bank = train split, queries = test split.
# data/fashion_mnist is filled by bsim_plugin.datasets.prepare_fashion_mnist
# (tools/train.py calls it for FashionMNIST configs).
dataset_type = 'FashionMNIST'
data_root = 'data/fashion_mnist'
data_preprocessor = dict(
    type='SelfSupDataPreprocessor', mean=[72.94], std=[90.0], to_rgb=False)

view_pipeline = [
    dict(type='RandomResizedCrop', scale=28, crop_ratio_range=(0.2, 1.0)),
    dict(type='RandomFlip', prob=0.5),
]
train_pipeline = [
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=256,
    num_workers=2,
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

knn_dataset = dict(
    type='KNNEvalDataset',
    bank=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        download=False,
        pipeline=test_pipeline),
    # test_mode=True: mmpretrain 1.2.0's MNIST datasets choose the files by
    # test_mode, not split; split='test' alone reads the train images.
    query=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        test_mode=True,
        download=False,
        pipeline=test_pipeline))
val_dataloader = dict(
    batch_size=512,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=knn_dataset)
val_evaluator = dict(type='WeightedKNNAccuracy', k=200, temperature=0.1)
test_dataloader = val_dataloader
test_evaluator = val_evaluator
