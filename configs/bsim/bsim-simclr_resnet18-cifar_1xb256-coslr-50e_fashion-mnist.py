# BSIM on SimCLR, CIFAR-style ResNet-18, Fashion-MNIST, 1 process x 256,
# 50 epochs, weighted kNN (k=200, T=0.1) on the test split every 10 epochs.
_base_ = [
    '../_base_/datasets/fashion-mnist_simclr.py',
    '../_base_/models/bsim-simclr_resnet18-cifar.py',
    '../_base_/models/bsim_mixture.py',
    '../_base_/schedules/sgd_coslr.py',
    '../_base_/default_runtime.py',
]

data_preprocessor = _base_.bsim_mixture

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
        end=50,
        T_max=49,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=50, val_interval=10)
randomness = dict(seed=0)
