# sgd_coslr for 200 epochs: the one-epoch linear warm-up, then a cosine over
# the other 199; kNN every 10 epochs.
_base_ = './sgd_coslr.py'

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=1,
        end=200,
        T_max=199,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=200, val_interval=10)
