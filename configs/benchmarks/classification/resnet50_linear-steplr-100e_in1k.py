# ImageNet-1k linear evaluation of a pre-trained ResNet-50: mmpretrain's
# own SSL linear protocol (MoCo v2's: frozen backbone, SGD lr 30, step
# schedule, 100 epochs, 8 x 32), with the backbone loaded by the plugin's
# StrictPretrained (a pre-training checkpoint of any of the plugin's
# algorithms or an exported backbone; every weight must load). Set the path:
#   --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/X/epoch_200.pth
_base_ = [
    'mmpretrain::mocov2/benchmarks/resnet50_8xb32-linear-steplr-100e_in1k.py',
    '../../_base_/plugin_runtime.py',
]

model = dict(
    backbone=dict(
        frozen_stages=4,
        norm_eval=True,
        init_cfg=dict(
            _delete_=True, type='StrictPretrained', checkpoint='')))
