# The base method of the CPU recipe: SimCLR (BSIMSimCLR with bsim_weight=0,
# whose loss equals mmpretrain's SimCLR exactly) with the same backbone,
# data, augmentations, optimizer and schedule; no mixture is built.
_base_ = './bsim-simclr_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py'

data_preprocessor = dict(
    _delete_=True,
    type='SelfSupDataPreprocessor',
    mean=[72.94],
    std=[90.0],
    to_rgb=False)
model = dict(bsim_weight=0.0)
