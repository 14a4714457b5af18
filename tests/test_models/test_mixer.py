import pytest
import torch
from mmpretrain.registry import BATCH_AUGMENTS

from bsim_plugin.models.utils import (InstanceMixer, cutmix, mixup,
                                      pair_indices)


def test_reverse_pairing_and_random_permutation():
    assert pair_indices(5, 'reverse').tolist() == [4, 3, 2, 1, 0]
    torch.manual_seed(0)
    perm = pair_indices(8, 'random')
    assert sorted(perm.tolist()) == list(range(8))
    with pytest.raises(ValueError, match="'ring'"):
        pair_indices(4, 'ring')


def test_mixup_lam_one_gives_source_and_zero_gives_partner():
    a, b = torch.randn(4, 1, 5, 5), torch.randn(4, 1, 5, 5)
    partner = pair_indices(4, 'reverse')
    assert torch.equal(mixup(a, b, torch.ones(4), partner), a)
    assert torch.equal(mixup(a, b, torch.zeros(4), partner), b[partner])
    lam = torch.tensor([0.25, 0.5, 0.75, 1.0])
    expected = torch.stack([
        lam[i] * a[i] + (1 - lam[i]) * b[partner[i]] for i in range(4)
    ])
    torch.testing.assert_close(mixup(a, b, lam, partner), expected)


@pytest.mark.parametrize('lam', [0.0, 0.3, 0.64, 0.9, 1.0])
def test_cutmix_kept_fraction_is_the_area_of_the_source(lam):
    torch.manual_seed(1)
    a = torch.zeros(6, 1, 16, 20)
    b = torch.ones(6, 1, 16, 20)
    partner = pair_indices(6, 'reverse')
    mixed, kept = cutmix(a, b, lam, partner)
    # Pixels from a are 0, pasted ones 1: the kept share is exact.
    share_a = 1 - mixed.mean(dim=(1, 2, 3))
    torch.testing.assert_close(share_a, torch.full((6, ), kept))
    if lam == 1.0:
        assert kept == 1.0 and torch.equal(mixed, a)


def test_cutmix_pastes_from_the_partner():
    torch.manual_seed(3)
    a = torch.zeros(4, 1, 8, 8)
    b = torch.arange(4.).view(4, 1, 1, 1).expand(4, 1, 8, 8) + 1
    mixed, kept = cutmix(a, b, 0.5, pair_indices(4, 'reverse'))
    for i in range(4):
        values = set(mixed[i].unique().tolist()) - {0.0}
        assert values == {float(4 - i)}  # b of partner 3 - i, plus one


def test_mixer_batch_and_sample_lam():
    torch.manual_seed(0)
    x = torch.randn(8, 3, 4, 4)
    batch = InstanceMixer(alpha=1.0, lam_per='batch')(x)
    assert batch.images.shape == x.shape
    assert torch.all(batch.lam == batch.lam[0])
    assert batch.partner.tolist() == list(range(7, -1, -1))
    torch.testing.assert_close(batch.images,
                               mixup(x, x, batch.lam, batch.partner))
    sample = InstanceMixer(alpha=1.0, lam_per='sample')(x)
    assert len(set(sample.lam.tolist())) == 8
    assert torch.all((sample.lam >= 0) & (sample.lam <= 1))


def test_mixer_uses_partner_images_of_the_other_view():
    torch.manual_seed(0)
    q, k = torch.zeros(4, 1, 3, 3), torch.ones(4, 1, 3, 3)
    res = InstanceMixer(alpha=2.0)(q, k)
    # mixed = lam * 0 + (1 - lam) * 1
    torch.testing.assert_close(res.images.mean(dim=(1, 2, 3)), 1 - res.lam)


def test_random_mode_uses_both_and_lam_matches_images():
    torch.manual_seed(0)
    a = torch.zeros(4, 1, 8, 8)
    mixer = InstanceMixer(alpha=1.0, mode='random')
    seen_cutmix = seen_mixup = False
    for _ in range(20):
        b = torch.ones(4, 1, 8, 8)
        res = mixer(a, b)
        torch.testing.assert_close(1 - res.images.mean(dim=(1, 2, 3)),
                                   res.lam)
        binary = bool(((res.images == 0) | (res.images == 1)).all())
        seen_cutmix |= binary and 0 < float(res.lam[0]) < 1
        seen_mixup |= not binary
    assert seen_cutmix and seen_mixup


def test_mixer_keeps_device_and_dtype():
    x = torch.randn(4, 1, 5, 5, dtype=torch.float64)
    res = InstanceMixer()(x)
    assert res.images.dtype == torch.float64
    assert res.lam.device == x.device and res.partner.dtype == torch.long


def test_registered_in_batch_augments():
    mixer = BATCH_AUGMENTS.build(
        dict(type='InstanceMixer', alpha=0.5, mode='cutmix'))
    assert isinstance(mixer, InstanceMixer) and mixer.mode == 'cutmix'


@pytest.mark.parametrize('kwargs, name', [
    (dict(alpha=0), 'alpha=0'),
    (dict(alpha=-1.0), 'alpha=-1.0'),
    (dict(alpha=float('nan')), 'alpha=nan'),
    (dict(mode='mixmatch'), "mode='mixmatch'"),
    (dict(pairing='ring'), "pairing='ring'"),
    (dict(lam_per='pixel'), "lam_per='pixel'"),
    (dict(mode='cutmix', lam_per='sample'), "mode='cutmix'"),
])
def test_invalid_settings_name_the_value(kwargs, name):
    with pytest.raises(ValueError) as err:
        BATCH_AUGMENTS.build(dict(type='InstanceMixer', **kwargs))
    assert name in str(err.value)


def test_mixture_targets_by_hand():
    from bsim_plugin.models.utils import mixture_targets
    lam = torch.tensor([0.7, 0.25, 1.0])
    target = mixture_targets(lam, torch.tensor([1, 3, 5]),
                             torch.tensor([5, 3, 1]), 6, torch.float64)
    expected = torch.zeros(3, 6, dtype=torch.float64)
    expected[0, 1], expected[0, 5] = 0.7, 0.3
    expected[1, 3] = 1.0  # its own partner: lam + (1 - lam)
    expected[2, 5], expected[2, 1] = 1.0, 0.0
    torch.testing.assert_close(target, expected)
    torch.testing.assert_close(target.sum(1), torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match='must be'):
        mixture_targets(lam, torch.tensor([1, 3]), torch.tensor([5, 3, 1]), 6)
