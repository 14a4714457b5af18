# The base of BSIM-BYOL in the CPU recipe: BYOL (BSIMBYOL with
# bsim_weight=0, whose loss equals mmpretrain's BYOL exactly); no mixture.
_base_ = './bsim-byol_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py'

data_preprocessor = dict(
    _delete_=True,
    type='SelfSupDataPreprocessor',
    mean=[72.94],
    std=[90.0],
    to_rgb=False)
model = dict(bsim_weight=0.0)
