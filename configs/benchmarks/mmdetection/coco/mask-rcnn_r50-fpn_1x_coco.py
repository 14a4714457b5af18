# COCO 2017 detection and instance segmentation transfer, the MoCo
# protocol's FPN setting: Mask R-CNN R50-FPN, 1x schedule (mmdet's), SyncBN
# in the backbone and FPN, no frozen stages. The backbone loads with
# StrictPretrained (every weight, or a named error). Set the path (a
# pre-training checkpoint of any of the plugin's algorithms, or an exported
# backbone):
#   --cfg-options model.backbone.init_cfg.checkpoint=B.pth
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['bsim_plugin'], allow_failed_imports=False)

bsim_backbone = 'backbone.pth'
# What the detector imports from the pre-trained backbone, by key prefix
# (see the C4 configs): here the whole backbone, res5 included. An FPN
# backbone holds every stage, so every stage must be in the checkpoint.
pretrained_prefixes = dict(
    backbone=['conv1.', 'bn1.', 'layer1.', 'layer2.', 'layer3.', 'layer4.'])
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=dict(
            _delete_=True,
            type='StrictPretrained',
            checkpoint=bsim_backbone,
            prefixes=pretrained_prefixes['backbone'])),
    neck=dict(norm_cfg=norm_cfg))

# The plugin's checkpoint hooks, so that a fine-tuning resumes with mmdet's
# tools/train.py --resume: checkpoints written atomically, that torch's safe
# weights_only loading reads (the message hub's loss history as plain
# arrays), with every process's random state.
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
custom_hooks = [
    dict(type='mmpretrain.WeightsOnlyCheckpointHook'),
    dict(type='mmpretrain.RNGStateHook'),
]
