# The Fashion-MNIST detection smoke run of
# faster-rcnn_r18-c4_300it_fashion-voc.py with the COCO-format annotations
# of the same images (mmdet's CocoDataset and CocoMetric, bbox mAP).
_base_ = './faster-rcnn_r18-c4_300it_fashion-voc.py'

data_root = 'data/fashion_det/'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CocoDataset',
        data_root=data_root,
        ann_file='annotations/instances_trainval.json',
        data_prefix=dict(img='voc/JPEGImages/'),
        metainfo={{_base_.train_dataloader.dataset.metainfo}},
        filter_cfg=dict(filter_empty_gt=True, min_size=4),
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CocoDataset',
        data_root=data_root,
        ann_file='annotations/instances_test.json',
        data_prefix=dict(img='voc/JPEGImages/'),
        metainfo={{_base_.train_dataloader.dataset.metainfo}},
        test_mode=True,
        pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True,
    type='CocoMetric',
    ann_file='data/fashion_det/annotations/instances_test.json',
    metric='bbox',
    format_only=False)
test_evaluator = val_evaluator
