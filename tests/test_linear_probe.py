"""tools/benchmarks/classification/linear_probe.py: a linear classifier on
frozen features extracted once; checked on hand-made feature sets and run
beside knn.py on the same checkpoint, in both of its forms."""
import os.path as osp
import sys

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmpretrain.registry import MODELS

from bsim_plugin.evaluation import (backbone_features, extract_embeddings,
                                    fit_linear_probe, load_image_arrays,
                                    probe_top1)
from bsim_plugin.evaluation.linear_probe import dataset_arrays
from conftest import ROOT
from helpers import tiny_config

sys.path.insert(0, osp.join(ROOT, 'tools', 'benchmarks', 'classification'))
import knn as knn_tool  # noqa: E402
import linear_probe as probe_tool  # noqa: E402


def blobs(n_per_class, dim, centres, noise, generator):
    x = torch.cat([c + noise * torch.randn(n_per_class, dim,
                                           generator=generator)
                   for c in centres])
    y = torch.arange(len(centres)).repeat_interleave(n_per_class)
    return x, y


def test_probe_on_hand_made_feature_sets():
    g = torch.Generator().manual_seed(0)
    dim = 20
    centres = 4 * torch.eye(dim)[:4]
    # Linearly separable classes, one feature on a scale 1000x the others
    # (the standardisation keeps L-BFGS well conditioned).
    scale = torch.ones(dim)
    scale[0] = 1000.0
    train_x, train_y = blobs(50, dim, centres, 0.5, g)
    test_x, test_y = blobs(50, dim, centres, 0.5, g)
    probe = fit_linear_probe(train_x * scale, train_y)
    assert probe_top1(probe, train_x * scale, train_y) == 100
    assert probe_top1(probe, test_x * scale, test_y) == 100
    assert probe['weight'].shape == (dim, 4) and 0 < probe['iterations']
    # Deterministic: the same fit twice.
    again = fit_linear_probe(train_x * scale, train_y)
    assert torch.equal(probe['weight'], again['weight'])
    # Linear only: XOR labels on the first two features are not separable
    # by a line, so no linear probe gets them (a kNN would).
    x = torch.randn(400, 2, generator=g)
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).long()
    xor = fit_linear_probe(x, y)
    assert probe_top1(xor, x, y) < 75
    # A stronger penalty shrinks the weights.
    strong = fit_linear_probe(train_x, train_y, weight_decay=1.0)
    assert strong['weight'].norm() < probe['weight'].norm()
    with pytest.raises(ValueError, match='features must be'):
        fit_linear_probe(train_x, train_y[:-1])


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory, tiny_fashion_root):
    """A tiny pre-training config with a kNN val set, a pre-training
    checkpoint of its model and the exported backbone of it."""
    out = tmp_path_factory.mktemp('probe')
    cfg = tiny_config('unused', tiny_fashion_root, max_epochs=1,
                      validate=True)
    cfg.pop('experiment_name')
    cfg.pop('work_dir')
    cfg_path = str(out / 'tiny.py')
    cfg.dump(cfg_path)
    MessageHub.get_current_instance().update_info('max_iters', 10)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    full = str(out / 'epoch_1.pth')
    torch.save(dict(meta=dict(epoch=1), state_dict=model.state_dict()), full)
    exported = str(out / 'backbone.pth')
    torch.save(dict(state_dict=model.backbone.state_dict()), exported)
    return cfg, cfg_path, model, full, exported


def test_features_are_the_knn_features_unnormalised(tiny_run):
    """The probe's features, L2-normalised, are the kNN's embeddings: the
    same images (the test pipeline), preprocessor, backbone and pooling."""
    cfg, _, model, _, _ = tiny_run
    bank = cfg.val_dataloader.dataset.bank
    inputs, labels = dataset_arrays(bank)
    images, knn_labels = load_image_arrays(bank)
    assert torch.equal(inputs, images) and torch.equal(labels, knn_labels)
    feats = backbone_features(model, inputs, batch_size=16)
    torch.testing.assert_close(F.normalize(feats, dim=1),
                               extract_embeddings(model, images))


def test_probe_and_knn_tools_on_one_checkpoint(tiny_run, tmp_path, capsys):
    _, cfg_path, _, full, exported = tiny_run
    knn = knn_tool.main([cfg_path, full, '--k', '5'])
    probes = [probe_tool.main([cfg_path, ckpt,
                               '--out', str(tmp_path / f'{i}.json')])
              for i, ckpt in enumerate((full, exported))]
    printed = capsys.readouterr().out
    assert 'weighted kNN top-1' in printed and 'linear probe' in printed
    # The same splits as the kNN: bank = train split, queries = test split.
    assert probes[0]['train'] == knn['bank'] == 64
    assert probes[0]['test'] == knn['queries'] == 32
    # Both forms of the checkpoint give the same probe.
    assert probes[0]['linear_top1'] == probes[1]['linear_top1']
    # The tiny classes are bars at class-specific places: both separate
    # them far above chance (10 %) on the random 4-wide backbone.
    assert knn['knn_top1'] > 50 and probes[0]['linear_top1'] > 50
    assert probes[0]['train_top1'] == 100


def test_probe_reads_a_classification_config(tiny_fashion_root, tiny_run,
                                             tmp_path):
    """The linear config's splits: its train set through its test
    pipeline (no RandomResizedCrop) and its test set."""
    from mmengine.config import Config

    from conftest import CONFIG_DIR
    _, _, model, full, _ = tiny_run
    cfg = Config.fromfile(osp.join(
        CONFIG_DIR, 'benchmarks', 'classification',
        'resnet18_linear-coslr-20e_fashion-mnist.py'))
    cfg.model.backbone = dict(type='ResNet_CIFAR', depth=18, in_channels=1,
                              base_channels=4)
    cfg.model.head.in_channels = 32
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = tiny_fashion_root
    path = str(tmp_path / 'linear.py')
    cfg.dump(path)
    result = probe_tool.main([path, full, '--max-iter', '50'])
    assert (result['train'], result['test']) == (64, 32)
    assert result['iterations'] <= 50
    with pytest.raises(SystemExit, match='--max-iter'):
        probe_tool.main([path, full, '--max-iter', '0'])
