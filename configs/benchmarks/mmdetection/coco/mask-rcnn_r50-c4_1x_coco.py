# COCO 2017 detection and instance segmentation transfer, the MoCo
# protocol's C4 setting: Mask R-CNN R50-C4, 1x schedule (mmdet's), SyncBN
# everywhere (backbone and RoI head trained, no frozen stages), an extra
# norm after res5. mmdet's C4 config (inherited) is caffe-style and leaves
# the RoI head's res5 randomly initialised; here style, channel order and
# normalisation are pytorch-style, and the backbone (res2-res4) and res5
# both load from one checkpoint with StrictPretrained (every weight, or a
# named error). Set both paths (a pre-training checkpoint of any of the
# plugin's algorithms, or an exported backbone):
#   --cfg-options model.backbone.init_cfg.checkpoint=B.pth \
#                 model.roi_head.shared_head.init_cfg.checkpoint=B.pth
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50-caffe-c4_1x_coco.py'

custom_imports = dict(imports=['bsim_plugin'], allow_failed_imports=False)

bsim_backbone = 'backbone.pth'
# What the detector imports from the pre-trained backbone, by key prefix:
# `backbone` goes to the detector's backbone (res2-res4), `roi_head` to the
# RoI head's res5; an empty list leaves that part to mmdet's own
# initialisation. Import res5 from a backbone pre-trained at 224 px; leave
# it (roi_head=[]) when the pre-training images were too small for res5 to
# see spatial maps (see the voc0712 config and the converter's stage-health
# report). tools/benchmarks/mmdetection/train.py rewrites the initialisers
# below from this option, also when it is set with --cfg-options.
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
                type='StrictPretrained',
                checkpoint=bsim_backbone,
                prefixes=pretrained_prefixes['roi_head'],
                new=['norm.']))))

# The plugin's checkpoint hooks, so that a fine-tuning resumes with mmdet's
# tools/train.py --resume: checkpoints written atomically, that torch's safe
# weights_only loading reads (the message hub's loss history as plain
# arrays), with every process's random state.
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
custom_hooks = [
    dict(type='mmpretrain.WeightsOnlyCheckpointHook'),
    dict(type='mmpretrain.RNGStateHook'),
]
