import pytest
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from bsim_plugin.models.utils import collect_mix_info, mixup


def build(**kwargs):
    cfg = dict(
        type='MixtureDataPreprocessor',
        mixer=dict(type='InstanceMixer', alpha=1.0, lam_per='sample'),
        mean=[10.], std=[2.])
    cfg.update(kwargs)
    return MODELS.build(cfg)


def batch(n=4, views=2):
    torch.manual_seed(0)
    imgs = [
        torch.randint(0, 255, (n, 1, 6, 6), dtype=torch.uint8)
        for _ in range(views)
    ]
    return dict(inputs=imgs, data_samples=[DataSample() for _ in range(n)])


def test_appends_mixture_of_normalised_views():
    data = batch()
    raw = [x.float() for x in data['inputs']]
    out = build()(data, training=True)
    v1, v2, mixed = out['inputs']
    torch.testing.assert_close(v1, (raw[0] - 10) / 2)
    lam, partner = collect_mix_info(out['data_samples'])
    assert partner.tolist() == [3, 2, 1, 0]
    torch.testing.assert_close(mixed, mixup(v1, v1, lam, partner))


def test_key_view_mixing_for_momentum_mixup():
    data = batch()
    out = build(mix_views=(0, 1))(data, training=True)
    v1, v2, mixed = out['inputs']
    lam, partner = collect_mix_info(out['data_samples'])
    torch.testing.assert_close(mixed, mixup(v1, v2, lam, partner))


def test_no_mixing_outside_training():
    data = dict(
        inputs=torch.randint(0, 255, (3, 1, 6, 6), dtype=torch.uint8),
        data_samples=[DataSample() for _ in range(3)])
    out = build()(data, training=False)
    assert torch.is_tensor(out['inputs'])
    assert 'mix_lam' not in out['data_samples'][0]


def test_too_few_views_and_bad_settings():
    with pytest.raises(ValueError, match='needs at least 2 views'):
        build(mix_views=(0, 1))(batch(views=1), training=True)
    with pytest.raises(ValueError, match=r'mix_views=\(0, -1\)'):
        build(mix_views=(0, -1))
    with pytest.raises(ValueError, match="mode='blend'"):
        build(mixer=dict(type='InstanceMixer', mode='blend'))
