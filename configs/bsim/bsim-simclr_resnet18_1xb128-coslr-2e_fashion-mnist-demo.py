# The CPU demo (tools/run_demo.sh): the CPU recipe of the quality protocol
# (BSIM-SimCLR, ResNet-18, 30,000 Fashion-MNIST images, 2 epochs, batch
# 128), with weighted kNN top-1 (k=200, T=0.1) on the whole test split and
# the whole train split as the bank, before training (the untrained
# backbone) and after every epoch. About 7 minutes on 2 cores.
_base_ = './bsim-simclr_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py'

custom_hooks = [
    dict(type='WeightsOnlyCheckpointHook'),
    dict(type='RNGStateHook'),
    dict(type='InitialValidationHook'),
]
