# The CPU demo (tools/run_demo.sh): BSIM-SimCLR with a 16-wide CIFAR ResNet-18
# on 15,000 Fashion-MNIST training images for 4 epochs, batch 128, about
# 10 minutes on 2 cores. Weighted kNN top-1 (k=200, T=0.1) on the full test
# split with a 10,000-image bank, before training and after every epoch.
_base_ = './bsim-simclr_resnet18-cifar_1xb256-coslr-50e_fashion-mnist.py'

model = dict(
    backbone=dict(base_channels=16),
    neck=dict(in_channels=128, hid_channels=256, out_channels=64))

train_dataloader = dict(
    batch_size=128,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(indices=15000))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(bank=dict(indices=10000)))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=0.1))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=1,
        end=4,
        T_max=3,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=4, val_interval=1)
default_hooks = dict(logger=dict(interval=20))
custom_hooks = [
    dict(type='WeightsOnlyCheckpointHook'),
    dict(type='RNGStateHook'),
    dict(type='InitialValidationHook'),
]
