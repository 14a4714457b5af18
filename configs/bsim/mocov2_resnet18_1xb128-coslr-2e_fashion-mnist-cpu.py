# The base of BSIM-MoCo v2 in the CPU recipe: MoCo v2 (BSIMMoCo with
# bsim_weight=0, whose loss equals mmpretrain's MoCo exactly); no mixture.
_base_ = './bsim-mocov2_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py'

data_preprocessor = dict(
    _delete_=True,
    type='SelfSupDataPreprocessor',
    mean=[72.94],
    std=[90.0],
    to_rgb=False)
model = dict(bsim_weight=0.0)
