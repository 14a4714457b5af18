# VOC07+12 detection transfer, the MoCo protocol: Faster R-CNN R50-C4,
# 24k iterations at batch 16 (8 GPUs x 2), SyncBN everywhere (backbone and
# RoI head trained, no frozen stages), an extra norm after res5, VOC07 test
# mAP. mmdet's C4 config (inherited) is caffe-style; a self-supervised
# backbone is pytorch-style, so style, channel order and normalisation are
# switched here. The backbone (res2-res4) and the RoI head's res5 both load
# from the same checkpoint with StrictPretrained (every weight loaded, or a
# named error). Set both paths (a pre-training checkpoint of any of the
# plugin's algorithms, or a backbone exported by
# tools/model_converters/extract_backbone_weights.py):
#   --cfg-options model.backbone.init_cfg.checkpoint=B.pth \
#                 model.roi_head.shared_head.init_cfg.checkpoint=B.pth
_base_ = 'mmdet::pascal_voc/faster-rcnn_r50-caffe-c4_ms-18k_voc0712.py'

custom_imports = dict(imports=['bsim_plugin'], allow_failed_imports=False)

bsim_backbone = 'backbone.pth'
# What the detector imports from the pre-trained backbone, by key prefix:
# `backbone` goes to the detector's backbone (res2-res4 of a C4 detector),
# `roi_head` to the RoI head's res5; an empty list leaves that part to
# mmdet's own initialisation. A ResNet-50 pre-trained at 224 px has trained
# res5: import it. A backbone pre-trained on images too small for res5 to
# see spatial maps (28 px: res5 sees 1x1 maps, its blocks' last BN stays
# near 0) does not: use roi_head=[] (the Fashion smoke configs do; the
# converter's stage-health report says which case you have).
# tools/benchmarks/mmdetection/train.py rewrites the initialisers below from
# this option, also when it is set with --cfg-options.
pretrained_prefixes = dict(
    backbone=['conv1.', 'bn1.', 'layer1.', 'layer2.', 'layer3.'],
    roi_head=['layer4.'])
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        style='pytorch',
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=dict(
            _delete_=True,
            type='StrictPretrained',
            checkpoint=bsim_backbone,
            prefixes=pretrained_prefixes['backbone'])),
    roi_head=dict(
        shared_head=dict(
            type='ResLayerExtraNorm',  # mmpretrain's, in mmdet's registry
            style='pytorch',
            norm_cfg=norm_cfg,
            norm_eval=False,
            init_cfg=dict(
                _delete_=True,
                type='StrictPretrained',
                checkpoint=bsim_backbone,
                prefixes=pretrained_prefixes['roi_head'],
                new=['norm.']))))

max_iter = 24000
train_cfg = dict(max_iters=max_iter, val_interval=4000)
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
        end=100),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iter,
        by_epoch=False,
        milestones=[18000, 22000],
        gamma=0.1)
]
# The plugin's checkpoint hooks, so that a fine-tuning resumes with mmdet's
# tools/train.py --resume: checkpoints written atomically, that torch's safe
# weights_only loading reads (the message hub's loss history as plain
# arrays), with every process's random state.
default_hooks = dict(
    checkpoint=dict(
        type='AtomicCheckpointHook', by_epoch=False, interval=4000))
custom_hooks = [
    dict(type='mmpretrain.WeightsOnlyCheckpointHook'),
    dict(type='mmpretrain.RNGStateHook'),
]
# 8 GPUs x 2 images, lr 0.02 (mmdet's default for a batch of 16).
train_dataloader = dict(batch_size=2)
auto_scale_lr = dict(enable=False, base_batch_size=16)
