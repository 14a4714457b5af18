"""SePP-ID: nearest neighbours against brute force (torch chunks and faiss),
pair selection and report against direct computations, the pairs file and
its checks, and the data set serving ordinary and semantic items."""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import DATASETS

from bsim_plugin.datasets import (PairsFileError, SemanticPairDataset,
                                  dataset_fingerprint, load_pairs,
                                  pairs_report, save_pairs, select_pairs)
from bsim_plugin.utils.neighbours import cosine_topk, faiss_available
from conftest import make_fashion_like


def embeddings(n=50, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(n, d, generator=g), dim=1)


def brute_force(x, k):
    s = x @ x.t()
    s.fill_diagonal_(float('-inf'))
    return s.topk(k, dim=1)


@pytest.mark.parametrize('backend, max_bytes', [
    ('torch', 4 * 7 * 7),  # 7 x 7 blocks: 8 x 8 block merges for 50 rows
    ('torch', None),
    pytest.param('faiss', None, marks=pytest.mark.skipif(
        not faiss_available(), reason='faiss not installed')),
])
def test_topk_equals_brute_force(backend, max_bytes):
    x = embeddings()
    sims, idx = cosine_topk(x, 5, backend=backend, max_bytes=max_bytes)
    ref_s, ref_i = brute_force(x, 5)
    assert torch.equal(idx, ref_i)
    torch.testing.assert_close(sims, ref_s, rtol=1e-5, atol=1e-6)
    assert not (idx == torch.arange(50)[:, None]).any()


def test_topk_bad_arguments_are_named():
    x = embeddings(n=6)
    with pytest.raises(ValueError, match=r'k=6'):
        cosine_topk(x, 6)
    with pytest.raises(ValueError, match="backend='annoy'"):
        cosine_topk(x, 2, backend='annoy')
    with pytest.raises(ValueError, match=r'\(N, D\)'):
        cosine_topk(x[0], 2)


def test_select_pairs_threshold_and_mutual_by_hand():
    x = embeddings(n=30)
    sims, idx = brute_force(x, 4)
    for threshold in (None, 0.5):
        for mutual in (False, True):
            pairs, ps = select_pairs(sims, idx, threshold, mutual)
            expected = []
            for i in range(30):
                for r in range(4):
                    j, s = int(idx[i, r]), float(sims[i, r])
                    if threshold is not None and s < threshold:
                        continue
                    if mutual and i not in idx[j].tolist():
                        continue
                    expected.append((i, j, s))
            assert pairs.tolist() == [[i, j] for i, j, _ in expected]
            torch.testing.assert_close(
                ps, torch.tensor([s for *_, s in expected]))
    # The options bite on this data: fewer pairs with each.
    assert len(select_pairs(sims, idx, 0.5)[0]) < 120
    assert len(select_pairs(sims, idx, mutual=True)[0]) < 120


def test_report_counts_and_purity():
    pairs = torch.tensor([[0, 1], [1, 0], [2, 5], [3, 4]])
    labels = torch.tensor([0, 0, 1, 1, 2, 1])
    report = pairs_report(pairs, 8, labels)
    assert report == dict(pairs=4, images=8, images_covered=6,
                          coverage=0.75, purity=0.75)
    assert 'purity' not in pairs_report(pairs, 8)


def fashion(root, seed=0, n=16, views=True, packed=False):
    make_fashion_like(root, num_train=n, num_test=4, seed=seed)
    pipeline = [dict(type='MultiView', num_views=2, transforms=[[]])
                ] if views else []
    if packed:
        pipeline.append(dict(type='PackInputs'))
    return dict(type='FashionMNIST', data_root=root, split='train',
                download=False, pipeline=pipeline)


def write(path, ds_cfg, pairs, length=None, fingerprint=None):
    dataset = DATASETS.build(dict(ds_cfg, pipeline=[]))
    pairs = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2)
    save_pairs(path, pairs, torch.ones(len(pairs)), dict(dataset=dict(
        length=len(dataset) if length is None else length,
        fingerprint=fingerprint or dataset_fingerprint(dataset))))


@pytest.mark.parametrize('packed', [False, True])
def test_dataset_serves_ordinary_and_semantic_items(tmp_path, packed):
    ds_cfg = fashion(str(tmp_path / 'data'), packed=packed)
    path = str(tmp_path / 'pairs.npz')
    write(path, ds_cfg, [[0, 10], [3, 7], [7, 3]])
    wrapped = SemanticPairDataset(ds_cfg, path)
    images = DATASETS.build(dict(ds_cfg, pipeline=[]))
    image = [torch.as_tensor(images.get_data_info(i)['img'])
             for i in range(16)]
    assert len(wrapped) == 16 + 3
    for idx in (0, 5, 15):  # two views of one image (identity views)
        views = wrapped[idx]['inputs']
        assert torch.equal(views[0][0], image[idx])
        assert torch.equal(views[1][0], image[idx])
    for offset, (i, j) in enumerate([(0, 10), (3, 7), (7, 3)]):
        views = wrapped[16 + offset]['inputs']
        assert torch.equal(views[0][0], image[i])
        assert torch.equal(views[1][0], image[j])
    # A share of semantic items: 16 ordinary + 16 semantic for 0.5.
    half = SemanticPairDataset(ds_cfg, path, semantic_share=0.5)
    assert len(half) == 32
    np.random.seed(0)
    drawn = {tuple(half.pair(16 + s)) for s in range(40)}
    assert drawn == {(0, 10), (3, 7), (7, 3)}


def test_pairs_file_must_match_the_dataset(tmp_path):
    ds_cfg = fashion(str(tmp_path / 'data'))
    other_cfg = fashion(str(tmp_path / 'other'), seed=1)
    path = str(tmp_path / 'pairs.npz')
    write(path, other_cfg, [[0, 1]])  # same length, other images
    with pytest.raises(PairsFileError, match='other images'):
        SemanticPairDataset(ds_cfg, path)
    write(path, ds_cfg, [[0, 1]], length=20)
    with pytest.raises(PairsFileError, match='20 images.* has 16'):
        SemanticPairDataset(ds_cfg, path)
    write(path, ds_cfg, [])
    with pytest.raises(PairsFileError, match='no pairs'):
        SemanticPairDataset(ds_cfg, path)
    with pytest.raises(PairsFileError, match='not found'):
        SemanticPairDataset(ds_cfg, str(tmp_path / 'missing.npz'))
    with pytest.raises(ValueError, match='semantic_share=1.0'):
        SemanticPairDataset(ds_cfg, path, semantic_share=1.0)
    write(path, fashion(str(tmp_path / 'data'), views=False), [[0, 1]])
    with pytest.raises(ValueError, match='two views'):
        SemanticPairDataset(fashion(str(tmp_path / 'data'), views=False),
                            path)[0]


def malformed(path, **arrays):
    meta = dict(format='sepp-pairs/1', dataset=dict(length=16))
    arrays.setdefault('meta', np.array(json.dumps(meta)))
    with open(path, 'wb') as f:
        np.savez(f, **arrays)


@pytest.mark.parametrize('arrays, message', [
    (dict(pairs=np.zeros((2, 3), np.int64), similarity=np.ones(2)),
     r'\(P, 2\) integers'),
    (dict(pairs=np.array([[0, 1]]), similarity=np.ones(3)),
     r'similarity must be \(1,\)'),
    (dict(pairs=np.array([[0, 16]]), similarity=np.ones(1)),
     'outside'),
    (dict(pairs=np.array([[2, 2]]), similarity=np.ones(1)),
     'with itself'),
    (dict(pairs=np.array([[0, 1]])), 'lacks'),
    (dict(pairs=np.array([[0, 1]]), similarity=np.ones(1),
          meta=np.array('{"format": "other"}')), "format 'other'"),
])
def test_malformed_pairs_files_are_named(tmp_path, arrays, message):
    path = str(tmp_path / 'bad.npz')
    malformed(path, **arrays)
    with pytest.raises(PairsFileError, match=message):
        load_pairs(path, 16)


def test_foreign_and_pickled_files_are_refused(tmp_path):
    path = tmp_path / 'foreign.npz'
    path.write_bytes(b'not a zip file at all')
    with pytest.raises(PairsFileError, match='not a pairs file'):
        load_pairs(str(path))
    with open(path, 'wb') as f:  # an object array needs pickle
        np.savez(f, pairs=np.array([{'a': 1}], dtype=object),
                 similarity=np.ones(1), meta=np.array('{}'))
    with pytest.raises(PairsFileError, match='not a pairs file'):
        load_pairs(str(path))
