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
            checkpoint='backbone.pth',
            prefixes=['conv1.', 'bn1.', 'layer1.', 'layer2.', 'layer3.'])),
    roi_head=dict(
        shared_head=dict(
            type='ResLayerExtraNorm',  # mmpretrain's, in mmdet's registry
            style='pytorch',
            norm_cfg=norm_cfg,
            norm_eval=False,
            init_cfg=dict(
                type='StrictPretrained',
                checkpoint='backbone.pth',
                prefixes=['layer4.'],
                new=['norm.']))))
