# COCO 2017 detection and instance segmentation transfer, the MoCo
# protocol's FPN setting: Mask R-CNN R50-FPN, 1x schedule (mmdet's), SyncBN
# in the backbone and FPN, no frozen stages. The backbone loads with
# StrictPretrained (every weight, or a named error). Set the path (a
# pre-training checkpoint of any of the plugin's algorithms, or an exported
# backbone):
#   --cfg-options model.backbone.init_cfg.checkpoint=B.pth
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['bsim_plugin'], allow_failed_imports=False)

norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=dict(
            _delete_=True, type='StrictPretrained',
            checkpoint='backbone.pth')),
    neck=dict(norm_cfg=norm_cfg))
