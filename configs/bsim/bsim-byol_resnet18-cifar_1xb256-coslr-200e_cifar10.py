# BSIM on BYOL, CIFAR-style ResNet-18, CIFAR-10, 1 process x 256,
# 200 epochs; weighted kNN (k=200, T=0.1) on the test split every 10 epochs.
_base_ = [
    '../_base_/datasets/cifar10_ssl.py',
    '../_base_/models/bsim-byol_resnet18-cifar.py',
    '../_base_/models/bsim_mixture.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]

data_preprocessor = _base_.bsim_mixture
