# CIFAR-10 linear evaluation of the CIFAR configs' ResNet-18 (3x3 stem):
# frozen backbone with BN in eval mode, a linear layer on the pooled 512-d
# features, SGD with a cosine schedule, 100 epochs, top-1 on the test split.
# Not tuned here. Set the checkpoint (pre-training or exported backbone):
#   --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/X/epoch_200.pth
_base_ = ['./resnet18_linear-coslr-20e_fashion-mnist.py']

model = dict(
    backbone=dict(type='ResNet_CIFAR', in_channels=3),
    head=dict(in_channels=512))
data_preprocessor = dict(
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255],
    to_rgb=False)

dataset_type = 'CIFAR10'
data_root = 'data/cifar10'
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        pipeline=[
            dict(type='RandomCrop', crop_size=32, padding=4),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PackInputs'),
        ]))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader

param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=100,
         T_max=100)
]
train_cfg = dict(max_epochs=100, val_interval=10)
