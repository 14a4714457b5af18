# SePP-ID on SimSiam in the CPU recipe: the SimSiam CPU recipe (the quality
# protocol's) trained on its ordinary items plus one semantic item per mined
# pair (a view of image i with a view of image j). Mine the pairs first, from
# a checkpoint pre-trained on the same 30,000 images (configs/sepp/README.md):
#   python tools/sepp/mine_pairs.py \
#       configs/bsim/simsiam_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py \
#       CHECKPOINT --out work_dirs/sepp/fashion-mnist-30k_pairs.npz --k 1
_base_ = '../bsim/simsiam_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py'

pairs_file = 'work_dirs/sepp/fashion-mnist-30k_pairs.npz'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='SemanticPairDataset',
        dataset={{_base_.train_dataloader.dataset}},
        pairs_file=pairs_file,
        semantic_share=None))
