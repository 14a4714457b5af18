# BSIM on MoCo v2, ResNet-50, ImageNet-1k, 8 GPUs x 32, 200 epochs.
# Everything but the algorithm, head and mixture preprocessor is mmpretrain's
# MoCo v2 recipe (SGD lr 0.03, cosine, queue 65,536, momentum 0.999, T 0.2,
# shuffle BN).
_base_ = [
    'mmpretrain::mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py',
    '../_base_/plugin_runtime.py',
    '../_base_/models/bsim_mixture.py',
]

# Mixture view: mixup of two instances' query views, lam ~ Beta(1, 1).
data_preprocessor = _base_.bsim_mixture

model = dict(
    type='BSIMMoCo',
    bsim_weight=1.0,
    head=dict(
        _delete_=True, type='SoftTargetContrastiveHead', temperature=0.2))
