"""The SePP-ID chain at tiny scale: pre-train with mmengine's Runner, mine
pairs from the checkpoint with tools/sepp/mine_pairs.py (against a direct
computation on the same embeddings), then train MoCo v2 on the ordinary and
semantic items of the mined pairs."""
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.runner import Runner
from mmpretrain.registry import DATASETS, MODELS

from bsim_plugin.datasets import load_pairs
from bsim_plugin.evaluation import extract_embeddings, load_image_arrays
from conftest import ROOT
from helpers import on_mined_pairs, tiny_config

sys.path.insert(0, osp.join(ROOT, 'tools', 'sepp'))
import mine_pairs  # noqa: E402


@pytest.fixture(scope='module')
def pretrained(tmp_path_factory, tiny_fashion_root):
    work = str(tmp_path_factory.mktemp('pretrain'))
    cfg = tiny_config(work, tiny_fashion_root, max_epochs=1)
    Runner.from_cfg(cfg).train()
    config = osp.join(work, 'pretrain.py')
    cfg.dump(config)
    return config, osp.join(work, 'epoch_1.pth'), cfg


def embeddings_of(cfg, checkpoint):
    """The same embeddings, computed directly."""
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    state = torch.load(checkpoint, weights_only=True)['state_dict']
    model.load_state_dict(state)
    images, labels = load_image_arrays(cfg.train_dataloader.dataset)
    return extract_embeddings(model, images), labels


@pytest.mark.parametrize('backend', ['torch', 'auto'])
def test_mined_pairs_equal_a_direct_computation(tmp_path, pretrained,
                                                backend):
    config, checkpoint, cfg = pretrained
    out = str(tmp_path / 'pairs.npz')
    meta = mine_pairs.main([
        config, checkpoint, '--out', out, '--k', '3', '--backend', backend,
        '--batch-size', '7'
    ])
    pairs, sims, saved = load_pairs(out, 32)
    assert saved['report'] == meta['report']
    feats, labels = embeddings_of(cfg, checkpoint)
    s = feats @ feats.t()
    s.fill_diagonal_(float('-inf'))
    top_s, top_i = s.topk(3, dim=1)
    # Row i's pairs are 3 distinct other images whose direct similarities
    # are the 3 largest (batching may order near-ties differently).
    assert pairs[:, 0].tolist() == [i for i in range(32) for _ in range(3)]
    rows, cols = torch.from_numpy(pairs).long().t()
    assert (rows != cols).all()
    assert all(len(set(cols[rows == i].tolist())) == 3 for i in range(32))
    np.testing.assert_allclose(sims, s[rows, cols].numpy(), atol=1e-5)
    np.testing.assert_allclose(sims, top_s.reshape(-1).numpy(), atol=1e-5)
    report = meta['report']
    assert report['pairs'] == 96 and report['images'] == 32
    same = (labels[rows] == labels[cols]).float().mean()
    assert report['purity'] == pytest.approx(float(same), abs=1e-4)
    assert len(saved['checkpoint_sha256']) == 64


def test_threshold_and_mutual_options_reach_the_file(tmp_path, pretrained):
    config, checkpoint, _ = pretrained
    counts = {}
    for name, extra in [('all', []), ('mutual', ['--mutual']),
                        ('thr', ['--threshold', '0.999'])]:
        out = str(tmp_path / f'{name}.npz')
        meta = mine_pairs.main([config, checkpoint, '--out', out, '--k', '3']
                               + extra)
        pairs, sims, _ = load_pairs(out)
        counts[name] = len(pairs)
        if name == 'thr':
            assert meta['threshold'] == 0.999 and (sims >= 0.999).all()
        if name == 'mutual':
            assert meta['mutual']
            assert {tuple(p) for p in pairs} == {(j, i) for i, j in pairs}
    assert counts['mutual'] < counts['all']
    assert counts['thr'] < counts['all']


def test_bad_arguments_stop_before_any_work(tmp_path, pretrained):
    config, checkpoint, _ = pretrained
    out = str(tmp_path / 'p.npz')
    for extra, message in [(['--k', '32'], '--k=32'),
                           (['--threshold', '2'], '--threshold')]:
        with pytest.raises(SystemExit, match=message):
            mine_pairs.main([config, checkpoint, '--out', out] + extra)
    with pytest.raises(SystemExit, match='not a checkpoint'):
        mine_pairs.main([config, config, '--out', out])


def test_moco_trains_on_the_mined_pairs(tmp_path, pretrained,
                                        tiny_fashion_root):
    config, checkpoint, _ = pretrained
    pairs_file = str(tmp_path / 'pairs.npz')
    mine_pairs.main([config, checkpoint, '--out', pairs_file, '--k', '2'])
    cfg = on_mined_pairs(
        tiny_config(str(tmp_path / 'sepp'), tiny_fashion_root, max_epochs=1),
        pairs_file)
    runner = Runner.from_cfg(cfg)
    dataset = runner.train_dataloader.dataset
    assert len(dataset) == 32 + 64
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()
    assert runner.iter == 96 // 8
    after = runner.model.state_dict()
    assert not torch.equal(before['backbone.conv1.weight'],
                           after['backbone.conv1.weight'])
    assert DATASETS.get('SemanticPairDataset') is type(dataset)


def test_a_missing_output_folder_is_created_before_the_work(tmp_path,
                                                            pretrained):
    config, checkpoint, _ = pretrained
    out = str(tmp_path / 'new' / 'pairs' / 'p.npz')
    mine_pairs.main([config, checkpoint, '--out', out, '--k', '2'])
    assert len(load_pairs(out)[0]) == 64


def test_an_unwritable_output_stops_before_embedding(tmp_path, pretrained,
                                                     capsys):
    config, checkpoint, _ = pretrained
    blocker = tmp_path / 'a_file'
    blocker.write_text('')
    with pytest.raises(SystemExit, match='cannot write --out'):
        mine_pairs.main([config, checkpoint, '--out',
                         str(blocker / 'p.npz')])
    assert 'embedding' not in capsys.readouterr().out


def test_zero_pairs_are_refused_with_the_numbers(tmp_path, pretrained):
    config, checkpoint, _ = pretrained
    out = str(tmp_path / 'p.npz')
    with pytest.raises(SystemExit) as err:
        mine_pairs.main([config, checkpoint, '--out', out, '--k', '2',
                         '--threshold', '1.0'])
    message = str(err.value)
    assert 'no pair to write: of the 64 neighbour pairs (k=2, 32 images)' \
        in message
    assert '0 reach --threshold 1' in message
    assert 'the highest similarity is 0.' in message
    assert not osp.exists(out)


def test_a_checkpoint_of_another_depth_is_named_in_full(
        tmp_path, pretrained):
    config, _, cfg = pretrained
    model_cfg = cfg.model.copy()
    model_cfg.backbone.depth = 34
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    deeper = str(tmp_path / 'r34.pth')
    torch.save(dict(state_dict=MODELS.build(model_cfg).state_dict()), deeper)
    with pytest.raises(SystemExit) as err:
        mine_pairs.main([config, deeper, '--out', str(tmp_path / 'p.npz')])
    message = str(err.value)
    assert 'not in the model (of layer1.2, layer2.2, ' in message
    assert 'depth=18' in message and '(depth 34)' in message
