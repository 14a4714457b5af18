# BSIM on BYOL, ResNet-50, ImageNet-1k, 16 GPUs x 256, 200 epochs.
# Everything but the algorithm and mixture preprocessor is mmpretrain's BYOL
# recipe (LARS lr 4.8, cosine, target momentum 0.99 -> 1, SyncBN).
_base_ = [
    'mmpretrain::byol/byol_resnet50_16xb256-coslr-200e_in1k.py',
    '../_base_/plugin_runtime.py',
    '../_base_/models/bsim_mixture.py',
]

# Mixture view: mixup of two instances' first views, lam ~ Beta(1, 1).
data_preprocessor = _base_.bsim_mixture

model = dict(type='BSIMBYOL', bsim_weight=1.0)
