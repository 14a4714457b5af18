"""The pipeline form of BSIM's mixture: mix per sample on the CPU.

The batch form (:class:`MixtureDataPreprocessor`) mixes on the device with a
partner from the same batch. In the pipeline form a dataset wrapper
(:class:`~bsim_plugin.datasets.MixturePairDataset`) serves each sample with
a partner sample (as mmdet's ``MultiImageMixDataset`` does), and
:class:`MixWithPartner` mixes the two with the same mixer code. The partner
is generally not in the batch, so its key view travels with the sample: the
views become ``[v1, v2, mixture, partner's v2]``, and the algorithms score
the mixture against that key.
"""
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from ...models.utils.mixer import (LAM_FIELD, PARTNER_FIELD, PIPELINE_PARTNER,
                                   InstanceMixer)

MIX_RESULTS_KEY = 'mix_results'


def to_nchw(img: np.ndarray) -> torch.Tensor:
    """``(H, W)`` or ``(H, W, C)`` array -> ``(1, C, H, W)`` float tensor."""
    t = torch.from_numpy(np.ascontiguousarray(img)).float()
    if t.dim() == 2:
        t = t[..., None]
    return t.permute(2, 0, 1)[None]


def from_nchw(t: torch.Tensor, like: np.ndarray) -> np.ndarray:
    """Back to the layout of ``like`` (float32: mixtures are not rounded)."""
    img = t[0].permute(1, 2, 0).numpy().astype(np.float32)
    return img[..., 0] if like.ndim == 2 else img


@TRANSFORMS.register_module()
class MixWithPartner(BaseTransform):
    """Mix one view of this sample with one view of its partner.

    Needs the partner's results under ``results['mix_results']`` (put there
    by :class:`MixturePairDataset`), each with ``img`` a list of views (from
    ``MultiView``). Appends the mixture and the partner's key view to
    ``img`` and stores ``mix_lam`` (the share of this sample's view) and
    ``mix_partner`` (``-1``: the partner's key view is the last view) for
    ``PackInputs(algorithm_keys=['mix_lam', 'mix_partner'])``.

    Args:
        alpha (float): ``lam ~ Beta(alpha, alpha)``. Defaults to 1.0.
        mode (str): ``'mixup'``, ``'cutmix'`` or ``'random'``. Defaults to
            ``'mixup'``.
        own_view (int): view of this sample to mix. Defaults to 0.
        partner_view (int): view of the partner to mix. Defaults to 0.
        key_view (int): the partner's view that serves as its key / target
            (the second view, as in the batch form). Defaults to 1.
    """

    def __init__(self,
                 alpha: float = 1.0,
                 mode: str = 'mixup',
                 own_view: int = 0,
                 partner_view: int = 0,
                 key_view: int = 1) -> None:
        # The same mixer as the batch form, on a "batch" of one pair.
        self.mixer = InstanceMixer(alpha=alpha, mode=mode, pairing='reverse')
        for name, value in (('own_view', own_view),
                            ('partner_view', partner_view), ('key_view',
                                                             key_view)):
            if not isinstance(value, int) or value < 0:
                raise ValueError(f'MixWithPartner: {name} must be a view '
                                 f'index >= 0, got {name}={value!r}')
        self.own_view, self.partner_view = own_view, partner_view
        self.key_view = key_view

    def transform(self, results: dict) -> dict:
        partners = results.pop(MIX_RESULTS_KEY, None)
        if not partners:
            raise KeyError(
                "MixWithPartner needs results['mix_results'] with the "
                "partner sample: wrap the dataset in dict(type="
                "'MixturePairDataset', dataset=..., pipeline=[...])")
        views, partner_views = results.get('img'), partners[0].get('img')
        need = max(self.own_view, self.partner_view, self.key_view) + 1
        for name, v in (('sample', views), ('partner', partner_views)):
            if not isinstance(v, list) or len(v) < need:
                got = len(v) if isinstance(v, list) else 'a single image'
                raise ValueError(
                    f'MixWithPartner: the {name} has {got} views, needs '
                    f'{need}: put MultiView in the wrapped dataset\'s '
                    'pipeline')
        own = views[self.own_view]
        result = self.mixer(
            to_nchw(own), to_nchw(partner_views[self.partner_view]))
        results['img'] = list(views) + [
            from_nchw(result.images, own), partner_views[self.key_view]
        ]
        results[LAM_FIELD] = result.lam[0].clone()
        results[PARTNER_FIELD] = torch.tensor(PIPELINE_PARTNER)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(mixer={self.mixer!r}, '
                f'own_view={self.own_view}, partner_view={self.partner_view}'
                f', key_view={self.key_view})')
