# BSIM-MoCo v2 in the CPU recipe with the mixture made per sample in the
# data pipeline (MixWithPartner under MixturePairDataset) instead of on the
# device: the partner is drawn from the whole data set and its key view
# travels with the sample, so each step encodes one more key view.
_base_ = './bsim-mocov2_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py'

# Normalise only: the mixture comes from the pipeline.
data_preprocessor = dict(mixer=None)

_grey_views = {{_base_.view_pipeline}}
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='MixturePairDataset',
        dataset=dict(
            type='FashionMNIST',
            data_root='data/fashion_mnist',
            split='train',
            download=False,
            indices=30000,
            pipeline=[
                dict(type='MultiView', num_views=2, transforms=[_grey_views])
            ]),
        pipeline=[
            dict(type='MixWithPartner', alpha=1.0, mode='mixup'),
            dict(type='PackInputs', algorithm_keys=['mix_lam', 'mix_partner'])
        ]))
