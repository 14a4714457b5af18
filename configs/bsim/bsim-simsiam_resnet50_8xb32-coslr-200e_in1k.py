# BSIM on SimSiam, ResNet-50, ImageNet-1k, 8 GPUs x 32, 200 epochs.
# Everything but the algorithm and mixture preprocessor is mmpretrain's
# SimSiam recipe (SGD lr 0.05 with the predictor's rate fixed by its
# SimSiamHook, cosine, SyncBN).
_base_ = [
    'mmpretrain::simsiam/simsiam_resnet50_8xb32-coslr-200e_in1k.py',
    '../_base_/models/bsim_mixture.py',
]

# The plugin's runtime (../_base_/plugin_runtime.py) written out: mmengine
# refuses two bases that both set custom_hooks, and SimSiam's has its hook.
custom_imports = dict(imports=['bsim_plugin'], allow_failed_imports=False)
custom_hooks = [
    dict(type='SimSiamHook', priority='HIGH', fix_pred_lr=True, lr=0.05),
    dict(type='WeightsOnlyCheckpointHook'),
    dict(type='RNGStateHook'),
]

# Mixture view: mixup of two instances' first views, lam ~ Beta(1, 1).
data_preprocessor = _base_.bsim_mixture

model = dict(type='BSIMSimSiam', bsim_weight=1.0)
