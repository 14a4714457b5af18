# SANE on MoCo v2, ResNet-50, ImageNet-1k, 8 GPUs x 32, 200 epochs, with the
# paper's ImageNet settings: tau 0.2, tau' 1, queue 65,536, mu 0.5 -> 10
# (cosine), theta ~ Beta(0.1, 0.1), lambda 0.5. Everything else is
# mmpretrain's MoCo v2 recipe (SGD lr 0.03, cosine, momentum 0.999, shuffle
# BN), inherited.
_base_ = [
    'mmpretrain::mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py',
    '../_base_/plugin_runtime.py',
]

data_preprocessor = dict(
    type='MixtureDataPreprocessor',
    mixer=dict(
        type='InstanceMixer',
        alpha=0.1,
        mode='mixup',
        pairing='random',
        lam_per='batch'),
    mix_views=(0, 1))
model = dict(
    type='SANE',
    label_temperature=1.0,
    mu_start=0.5,
    mu_end=10.0,
    mixup_weight=0.5,
    clean_target='onehot',
    head=dict(
        _delete_=True, type='SoftTargetContrastiveHead', temperature=0.2))
