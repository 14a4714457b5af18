# SePP-ID on MoCo v2, ResNet-50, ImageNet-1k, 8 GPUs x 32, 200 epochs:
# mmpretrain's MoCo v2 recipe, inherited, trained on its ordinary items plus
# the mined semantic pairs. Mine the pairs first with a pre-trained
# checkpoint (configs/sepp/README.md), e.g.
#   python tools/sepp/mine_pairs.py \
#       configs/sepp/sepp-mocov2_resnet50_8xb32-coslr-200e_in1k.py \
#       CHECKPOINT --out work_dirs/sepp/imagenet_pairs.npz --k 5 \
#       --threshold 0.7 --device cuda
_base_ = [
    'mmpretrain::mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py',
    '../_base_/plugin_runtime.py',
]

pairs_file = 'work_dirs/sepp/imagenet_pairs.npz'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='SemanticPairDataset',
        dataset={{_base_.train_dataloader.dataset}},
        pairs_file=pairs_file,
        semantic_share=None))
