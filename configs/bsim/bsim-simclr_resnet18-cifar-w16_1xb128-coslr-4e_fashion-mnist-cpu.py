# The CPU recipe (quality protocol and demo): BSIM-SimCLR with a 16-wide
# CIFAR ResNet-18 and grey SimCLR augmentations, 1 process x 128.
_base_ = [
    '../_base_/datasets/fashion-mnist_simclr-grey.py',
    '../_base_/models/bsim-simclr_resnet18-cifar.py',
    '../_base_/schedules/sgd_coslr.py',
    '../_base_/default_runtime.py',
]

data_preprocessor = dict(
    type='MixtureDataPreprocessor',
    mixer=dict(
        type='InstanceMixer',
        alpha=1.0,
        mode='mixup',
        pairing='reverse',
        lam_per='batch'),
    mix_views=(0, 0))
model = dict(
    backbone=dict(base_channels=16),
    neck=dict(in_channels=128, hid_channels=256, out_channels=64))

train_dataloader = dict(
    batch_size=128,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(indices=15000))
val_dataloader = dict(num_workers=0, persistent_workers=False)
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
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=1, max_keep_ckpts=1))
randomness = dict(seed=0)
