"""The pipeline form of the mixture: MixturePairDataset serves a partner,
MixWithPartner mixes with the mixer's code and ships the partner's key
view."""
import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate
from mmpretrain.registry import DATASETS, TRANSFORMS

PACK = dict(type='PackInputs', algorithm_keys=['mix_lam', 'mix_partner'])


def pair_dataset(root, pipeline=None, views=2, mode='mixup'):
    return DATASETS.build(
        dict(
            type='MixturePairDataset',
            dataset=dict(
                type='FashionMNIST',
                data_root=root,
                split='train',
                download=False,
                indices=10,
                # No augmentation: each view is the raw image.
                pipeline=[
                    dict(type='MultiView', num_views=views, transforms=[[]])
                ]),
            pipeline=pipeline or
            [dict(type='MixWithPartner', alpha=1.0, mode=mode), PACK]))


def raw_images(root):
    ds = DATASETS.build(
        dict(type='FashionMNIST', data_root=root, split='train',
             download=False, indices=10, pipeline=[]))
    return [ds[i]['img'].astype(np.float32) for i in range(len(ds))]


def find(images, key):
    return [j for j, img in enumerate(images) if np.array_equal(img, key)]


@pytest.mark.parametrize('mode', ['mixup', 'cutmix'])
def test_item_carries_mixture_and_partner_key_view(tiny_fashion_root, mode):
    np.random.seed(0)
    torch.manual_seed(0)
    ds = pair_dataset(tiny_fashion_root, mode=mode)
    images = raw_images(tiny_fashion_root)
    assert len(ds) == 10
    partners = set()
    for i in range(len(ds)):
        item = ds[i]
        views = item['inputs']
        assert len(views) == 4
        lam = float(item['data_samples'].mix_lam)
        assert 0 <= lam <= 1
        assert int(item['data_samples'].mix_partner) == -1
        own = images[i]
        torch.testing.assert_close(views[0][0].float(), torch.from_numpy(own))
        # The last view is a whole image of another sample: the partner.
        (j, ) = find(images, views[3][0].numpy().astype(np.float32))
        assert j != i
        partners.add(j)
        mixed = views[2][0]
        if mode == 'mixup':
            expected = lam * own + (1 - lam) * images[j]
            torch.testing.assert_close(mixed, torch.from_numpy(expected))
        else:
            # Every pixel is the own image's or the partner's; lam is the
            # share that is the own image's (where the two differ).
            from_own = torch.from_numpy(own) == mixed
            from_partner = torch.from_numpy(images[j]) == mixed
            assert bool((from_own | from_partner).all())
            differ = torch.from_numpy(own != images[j])
            kept = (from_own & differ).sum() / differ.sum()
            assert abs(float(kept) - lam) < 0.2
    assert len(partners) > 3  # drawn at random, not a fixed pairing


def test_batch_of_items_collates(tiny_fashion_root):
    np.random.seed(0)
    ds = pair_dataset(tiny_fashion_root)
    batch = default_collate([ds[i] for i in range(4)])
    assert [tuple(v.shape) for v in batch['inputs']] == [(4, 1, 28, 28)] * 4
    assert batch['inputs'][2].dtype == torch.float32  # mixtures not rounded


def test_wrapper_without_the_transform_is_a_clear_error(tiny_fashion_root):
    with pytest.raises(ValueError, match='no MixWithPartner'):
        pair_dataset(tiny_fashion_root, pipeline=[PACK])


def test_transform_without_the_wrapper_is_a_clear_error():
    t = TRANSFORMS.build(dict(type='MixWithPartner'))
    with pytest.raises(KeyError, match='MixturePairDataset'):
        t(dict(img=[np.zeros((4, 4))] * 2))


def test_single_view_is_a_clear_error(tiny_fashion_root):
    ds = pair_dataset(tiny_fashion_root, views=1)
    with pytest.raises(ValueError, match='has 1 views, needs 2'):
        ds[0]


@pytest.mark.parametrize('kwargs, message',
                         [(dict(alpha=0), 'alpha=0'),
                          (dict(key_view=-1), 'key_view=-1'),
                          (dict(mode='blend'), "mode='blend'")])
def test_bad_values_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TRANSFORMS.build(dict(type='MixWithPartner', **kwargs))
