"""kNN outside the val loop: the same numbers as the val loop, by hand."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from bsim_plugin.evaluation import (extract_embeddings, feature_spread,
                                    knn_top1, load_image_arrays,
                                    pixel_embeddings)
from helpers import tiny_model_cfg


def test_load_image_arrays_reads_whole_splits(tiny_fashion_root):
    init_default_scope('mmpretrain')
    images, labels = load_image_arrays(
        dict(type='FashionMNIST', data_root=tiny_fashion_root, split='test',
             test_mode=True))
    assert images.shape == (32, 1, 28, 28) and images.dtype == torch.uint8
    assert labels.tolist() == [i % 10 for i in range(32)]
    train, _ = load_image_arrays(
        dict(type='FashionMNIST', data_root=tiny_fashion_root,
             split='train'))
    assert len(train) == 64


def test_embeddings_equal_the_predict_mode():
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg())
    model.init_weights()
    images = torch.randint(0, 255, (10, 1, 28, 28), dtype=torch.uint8)
    feats = extract_embeddings(model, images, batch_size=4)
    model.eval()
    data = model.data_preprocessor(dict(inputs=images, data_samples=None))
    samples = model(data['inputs'], None, mode='predict')
    expected = torch.stack([s.embedding for s in samples])
    torch.testing.assert_close(feats, expected, rtol=1e-5, atol=1e-6)
    assert model.training is False  # was in eval mode, stays so


def test_pixel_embeddings_and_knn_by_hand():
    images = torch.tensor([[[[0., 2.]]], [[[2., 0.]]], [[[1., 1.]]]])
    raw = pixel_embeddings(images)
    torch.testing.assert_close(raw[0], torch.tensor([0., 1.]))
    mean = images.mean(0)
    centred = pixel_embeddings(images, mean)
    torch.testing.assert_close(centred[0], F.normalize(
        torch.tensor([-1., 1.]), dim=0))
    # Query 0 is nearest to bank 1 (label 1); with k=1 it gets label 1.
    bank = torch.tensor([[1., 0.], [0., 1.]])
    query = torch.tensor([[0.1, 0.9], [0.9, 0.1]])
    query = F.normalize(query, dim=1)
    labels = torch.tensor([0, 1])
    assert knn_top1(bank, labels, query, torch.tensor([1, 0]), k=1) == 100.0
    assert knn_top1(bank, labels, query, torch.tensor([0, 0]), k=1) == 50.0


def test_feature_spread_by_hand():
    # One direction repeated: collapsed, spread 0.
    same = torch.tensor([[0.6, 0.8]] * 5)
    assert feature_spread(same) == pytest.approx(0.0, abs=1e-7)
    # Two opposite directions: mean 0, spread 1.
    assert feature_spread(torch.tensor([[1.0, 0.0], [-1.0, 0.0]])) == \
        pytest.approx(1.0)
    # Two orthogonal directions: mean (0.5, 0.5), 1 - 0.5 = 0.5.
    e = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert feature_spread(e) == pytest.approx(0.5 ** 0.5)
    # The mean pairwise cosine it implies, against the pairs themselves.
    x = F.normalize(torch.randn(7, 4).abs(), dim=1)
    s = feature_spread(x)
    cos = x @ x.T
    mean_cos = (cos.sum() - 7) / (7 * 6)
    assert (7 * (1 - s ** 2) - 1) / 6 == pytest.approx(float(mean_cos))
    with pytest.raises(ValueError, match=r'\(3,\)'):
        feature_spread(torch.ones(3))
