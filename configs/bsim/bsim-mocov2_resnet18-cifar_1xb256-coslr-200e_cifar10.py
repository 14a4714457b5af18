# BSIM on MoCo v2, CIFAR-style ResNet-18, CIFAR-10, 1 process x 256,
# 200 epochs; weighted kNN (k=200, T=0.1) on the test split every 10 epochs.
_base_ = [
    '../_base_/datasets/cifar10_ssl.py',
    '../_base_/models/bsim-mocov2_resnet18-cifar.py',
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
        end=200,
        T_max=199,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=200, val_interval=10)
