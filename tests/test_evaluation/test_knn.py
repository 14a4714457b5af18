import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import DATASETS, METRICS
from mmpretrain.structures import DataSample

from bsim_plugin.evaluation import weighted_knn_scores


def test_weighted_knn_scores_by_hand():
    bank = F.normalize(torch.tensor([[1., 0.], [0.8, 0.6], [0., 1.],
                                     [-1., 0.]]), dim=1)
    labels = torch.tensor([0, 1, 1, 2])
    query = torch.tensor([[1., 0.]])
    scores = weighted_knn_scores(query, bank, labels, 3, k=3, temperature=0.5)
    # Neighbours: bank 0 (sim 1), bank 1 (0.8), bank 2 (0); bank 3 is out.
    expected = [math.exp(1 / 0.5), math.exp(0.8 / 0.5) + math.exp(0 / 0.5), 0]
    torch.testing.assert_close(scores[0], torch.tensor(expected))
    # k larger than the bank is clipped; chunking changes nothing.
    many = torch.randn(7, 2)
    torch.testing.assert_close(
        weighted_knn_scores(many, bank, labels, 3, k=50, chunk_size=2),
        weighted_knn_scores(many, bank, labels, 3, k=4, chunk_size=100))


def sample(embedding, label, role):
    s = DataSample().set_gt_label(label)
    s.set_field(torch.tensor(embedding), 'embedding')
    s.set_metainfo({'knn_role': role})
    return s.to_dict()


def test_metric_top1_and_top2():
    metric = METRICS.build(
        dict(type='WeightedKNNAccuracy', k=3, temperature=0.1, topk=(1, 2)))
    metric.dataset_meta = dict(classes=['a', 'b', 'c'])
    bank = [
        sample([1., 0.], 0, 'bank'),
        sample([0.9, 0.1], 0, 'bank'),
        sample([0., 1.], 1, 'bank'),
        sample([0.1, 0.9], 1, 'bank')
    ]
    queries = [
        sample([1., 0.], 0, 'query'),  # right
        sample([0., 1.], 1, 'query'),  # right
        sample([0.95, 0.05], 2, 'query'),  # class 2 has no neighbour
        sample([0.2, 0.8], 0, 'query'),  # 2 neighbours of 1, one of 0
    ]
    metric.process({}, bank + queries)
    result = metric.evaluate(len(bank) + len(queries))
    assert result['knn/top1'] == pytest.approx(50.0)
    assert result['knn/top2'] == pytest.approx(75.0)


def test_metric_errors():
    for bad, name in [(dict(k=0), 'k=0'), (dict(temperature=-1), '-1'),
                      (dict(topk=(0, )), 'topk=(0,)')]:
        with pytest.raises(ValueError) as err:
            METRICS.build(dict(type='WeightedKNNAccuracy', **bad))
        assert name in str(err.value)
    metric = METRICS.build(dict(type='WeightedKNNAccuracy'))
    s = DataSample().set_gt_label(0)
    s.set_field(torch.ones(2), 'embedding')
    with pytest.raises(KeyError, match='KNNEvalDataset'):
        metric.process({}, [s.to_dict()])


def test_knn_eval_dataset_marks_roles(tiny_fashion_root):
    ds = DATASETS.build(
        dict(
            type='KNNEvalDataset',
            bank=dict(
                type='FashionMNIST',
                data_root=tiny_fashion_root,
                split='train',
                download=False,
                pipeline=[dict(type='PackInputs')]),
            query=dict(
                type='FashionMNIST',
                data_root=tiny_fashion_root,
                split='test',
                test_mode=True,
                download=False,
                pipeline=[dict(type='PackInputs')])))
    assert len(ds) == 64 + 32 and ds.num_bank == 64
    assert ds[0]['data_samples'].knn_role == 'bank'
    assert ds[63]['data_samples'].knn_role == 'bank'
    assert ds[64]['data_samples'].knn_role == 'query'
    assert ds[64]['inputs'].shape == (1, 28, 28)
