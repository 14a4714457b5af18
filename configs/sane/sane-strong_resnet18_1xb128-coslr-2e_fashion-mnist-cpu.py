# SANE's "strong" variant in the CPU recipe: the mixed query comes from a
# third, strongly augmented view of each image (tighter crops, stronger
# jitter and blur, more solarisation) instead of the query view; the two
# clean views keep the recipe's augmentations.
_base_ = './sane_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py'

view_pipeline = [
    dict(type='RandomResizedCrop', scale=28, crop_ratio_range=(0.35, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='IntensityJitter', brightness=0.8, contrast=0.8, prob=0.8),
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 1.0),
        magnitude_std='inf',
        prob=0.5),
    dict(type='Solarize', thr=128, prob=0.2),
]
strong_view_pipeline = [
    dict(type='RandomResizedCrop', scale=28, crop_ratio_range=(0.2, 0.6)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='IntensityJitter', brightness=0.9, contrast=0.9, prob=1.0),
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 1.5),
        magnitude_std='inf',
        prob=0.8),
    dict(type='Solarize', thr=128, prob=0.5),
]
# Views: 0 query, 1 key, 2 strong; the mixture (view 2 of each image with
# view 1 of its partner) is appended as view 3 by the data preprocessor.
train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(
            type='MultiView',
            num_views=[2, 1],
            transforms=[view_pipeline, strong_view_pipeline]),
        dict(type='PackInputs'),
    ]))
data_preprocessor = dict(mix_views=(2, 1))
