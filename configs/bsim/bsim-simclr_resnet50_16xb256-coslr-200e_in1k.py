# BSIM on SimCLR, ResNet-50, ImageNet-1k, 16 GPUs x 256, 200 epochs.
# Everything but the algorithm, head and mixture preprocessor is mmpretrain's
# SimCLR recipe (LARS lr 4.8, cosine schedule, SyncBN).
_base_ = [
    'mmpretrain::simclr/simclr_resnet50_16xb256-coslr-200e_in1k.py',
    '../_base_/plugin_runtime.py',
    '../_base_/models/bsim_mixture.py',
]

# Mixture view: mixup of two instances' first views, lam ~ Beta(1, 1).
data_preprocessor = _base_.bsim_mixture

model = dict(
    type='BSIMSimCLR',
    bsim_weight=1.0,
    head=dict(
        _delete_=True, type='SoftTargetContrastiveHead', temperature=0.1))
