# SePP-ID on SimSiam, ResNet-50, ImageNet-1k, 8 GPUs x 32, 200 epochs:
# mmpretrain's SimSiam recipe, inherited, trained on its ordinary items plus
# the mined semantic pairs (mine them first: configs/sepp/README.md).
_base_ = 'mmpretrain::simsiam/simsiam_resnet50_8xb32-coslr-200e_in1k.py'

# The plugin's runtime (../_base_/plugin_runtime.py) written out: mmengine
# refuses two bases that both set custom_hooks, and SimSiam's has its hook.
custom_imports = dict(imports=['bsim_plugin'], allow_failed_imports=False)
custom_hooks = [
    dict(type='SimSiamHook', priority='HIGH', fix_pred_lr=True, lr=0.05),
    dict(type='WeightsOnlyCheckpointHook'),
    dict(type='RNGStateHook'),
]

pairs_file = 'work_dirs/sepp/imagenet_pairs.npz'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='SemanticPairDataset',
        dataset={{_base_.train_dataloader.dataset}},
        pairs_file=pairs_file,
        semantic_share=None))
