# SePP-ID on SimSiam, CIFAR-style ResNet-18, CIFAR-10, 1 process x 256,
# 200 epochs: the plugin's CIFAR-10 SimSiam recipe (BSIM's with bsim_weight=0,
# whose loss is mmpretrain's SimSiam) on its ordinary items plus the mined
# semantic pairs (mine them first: configs/sepp/README.md).
_base_ = '../bsim/bsim-simsiam_resnet18-cifar_1xb256-coslr-200e_cifar10.py'

data_preprocessor = dict(
    _delete_=True,
    type='SelfSupDataPreprocessor',
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255],
    to_rgb=False)
model = dict(bsim_weight=0.0)
pairs_file = 'work_dirs/sepp/cifar10_pairs.npz'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='SemanticPairDataset',
        dataset={{_base_.train_dataloader.dataset}},
        pairs_file=pairs_file,
        semantic_share=None))
