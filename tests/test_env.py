"""The installed stack is the one the plugin needs: mmcv with compiled ops
(mmdet's detectors need nms and RoIAlign), mmdet accepting this mmcv, and
the plugin's components in mmpretrain's registries."""
import mmcv
import torch
from mmpretrain.registry import (BATCH_AUGMENTS, DATASETS, HOOKS, METRICS,
                                 MODELS)


def test_mmcv_ops_run_on_cpu():
    from mmcv.ops import RoIAlign, nms
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.],
                          [20., 20., 30., 30.]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    _, keep = nms(boxes, scores, iou_threshold=0.5)
    assert keep.tolist() == [0, 2]
    feat = torch.arange(16.).view(1, 1, 4, 4)
    rois = torch.tensor([[0., 0., 0., 4., 4.]])
    out = RoIAlign((2, 2), spatial_scale=1.0, sampling_ratio=1)(feat, rois)
    assert out.shape == (1, 1, 2, 2)


def test_versions_and_mmdet_import():
    import mmdet
    import mmengine
    import mmpretrain
    assert mmcv.__version__ == '2.1.0'
    assert mmengine.__version__.startswith('0.10.')
    assert mmpretrain.__version__.startswith('1.2.')
    assert mmdet.__version__.startswith('3.3.')


def test_components_are_registered():
    assert MODELS.get('BSIMSimCLR') is not None
    assert MODELS.get('SoftTargetContrastiveHead') is not None
    assert MODELS.get('MixtureDataPreprocessor') is not None
    assert BATCH_AUGMENTS.get('InstanceMixer') is not None
    assert DATASETS.get('KNNEvalDataset') is not None
    assert METRICS.get('WeightedKNNAccuracy') is not None
    assert HOOKS.get('RNGStateHook') is not None
    assert HOOKS.get('InitialValidationHook') is not None
    assert HOOKS.get('WeightsOnlyCheckpointHook') is not None


def test_custom_imports_config_builds_components(tmp_path):
    """A plain config reaches the plugin through custom_imports, in a fresh
    interpreter; an mmdet-scoped registry reaches it as mmpretrain.<Name>."""
    import subprocess
    import sys
    cfg = tmp_path / 'plain.py'
    cfg.write_text(
        "default_scope = 'mmpretrain'\n"
        "custom_imports = dict(imports=['bsim_plugin'], "
        "allow_failed_imports=False)\n"
        "mixer = dict(type='InstanceMixer', alpha=0.4)\n"
        "head = dict(type='mmpretrain.SoftTargetContrastiveHead', "
        "temperature=0.3)\n")
    code = (
        'import sys\n'
        'from mmengine.config import Config\n'
        'cfg = Config.fromfile(sys.argv[1])\n'
        'from mmpretrain.registry import BATCH_AUGMENTS\n'
        'from mmdet.registry import MODELS as DET_MODELS\n'
        'print(BATCH_AUGMENTS.build(cfg.mixer))\n'
        'print(DET_MODELS.build(cfg.head).temperature)\n')
    proc = subprocess.run([sys.executable, '-c', code, str(cfg)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "InstanceMixer(alpha=0.4, mode='mixup'" in proc.stdout
    assert '0.3' in proc.stdout
