"""Instance mixing: the one mixer behind BSIM and SANE's momentum mixup.

A mixture of sample ``i`` and its partner ``j = partner[i]`` is

* mixup:  ``x_m = lam * a_i + (1 - lam) * b_j``
* cutmix: ``a_i`` with a box pasted from ``b_j``; ``lam`` is the kept area.

``a`` and ``b`` are usually the same batch (BSIM mixes the first view with
itself, paired across instances); SANE mixes the query view ``a`` with the key
view ``b`` of the partner. ``lam`` is always the share of the sample's own
image ``a_i``, so a target built as ``lam * y_i + (1 - lam) * y_j`` matches.
"""
import math
from typing import List, NamedTuple, Optional

import torch
from mmpretrain.registry import BATCH_AUGMENTS

from ...utils.validation import check_number

MIX_MODES = ('mixup', 'cutmix', 'random')
PAIRINGS = ('reverse', 'random')
LAM_SCOPES = ('batch', 'sample')


class MixResult(NamedTuple):
    """What a mix returns.

    Attributes:
        images (Tensor): ``(N, C, H, W)`` mixed images.
        lam (Tensor): ``(N,)`` share of each sample's own image, in [0, 1].
        partner (Tensor): ``(N,)`` long, the batch index of each partner.
    """
    images: torch.Tensor
    lam: torch.Tensor
    partner: torch.Tensor


def pair_indices(batch_size: int,
                 pairing: str = 'reverse',
                 device: Optional[torch.device] = None) -> torch.Tensor:
    """Partner index of every sample in a batch.

    ``'reverse'`` pairs ``i`` with ``N - 1 - i`` (deterministic; for odd
    ``N`` the middle sample is its own partner); ``'random'`` draws a random
    permutation (fixed points possible, as in mixup).
    """
    if pairing == 'reverse':
        return torch.arange(batch_size - 1, -1, -1, device=device)
    if pairing == 'random':
        return torch.randperm(batch_size, device=device)
    raise ValueError(f'pairing must be one of {PAIRINGS}, got {pairing!r}')


def mixup(a: torch.Tensor, b: torch.Tensor, lam: torch.Tensor,
          partner: torch.Tensor) -> torch.Tensor:
    """``lam[i] * a[i] + (1 - lam[i]) * b[partner[i]]``.

    Args:
        a (Tensor): ``(N, ...)`` own images.
        b (Tensor): ``(N, ...)`` images the partners are taken from.
        lam (Tensor): ``(N,)`` mixing ratios.
        partner (Tensor): ``(N,)`` long partner indices.
    """
    lam = lam.to(a.dtype).view(-1, *([1] * (a.dim() - 1)))
    return torch.lerp(b[partner], a, lam)


def cutmix(a: torch.Tensor, b: torch.Tensor, lam: float,
           partner: torch.Tensor):
    """Paste one box of ``b[partner]`` into ``a`` (the same box for the batch).

    The box covers about ``1 - lam`` of the image, centred uniformly at random
    and clipped at the border, so the returned kept-area fraction is the
    exact share of ``a`` in every mixed image.

    Returns:
        Tuple[Tensor, float]: mixed images and the kept-area fraction.
    """
    h, w = a.shape[-2:]
    cut_ratio = math.sqrt(1.0 - lam)
    cut_h, cut_w = int(round(h * cut_ratio)), int(round(w * cut_ratio))
    cy = int(torch.randint(h, (1, )))
    cx = int(torch.randint(w, (1, )))
    y1, y2 = max(cy - cut_h // 2, 0), min(cy + cut_h - cut_h // 2, h)
    x1, x2 = max(cx - cut_w // 2, 0), min(cx + cut_w - cut_w // 2, w)
    mixed = a.clone()
    mixed[..., y1:y2, x1:x2] = b[partner][..., y1:y2, x1:x2]
    kept = 1.0 - (y2 - y1) * (x2 - x1) / float(h * w)
    return mixed, kept


@BATCH_AUGMENTS.register_module()
class InstanceMixer:
    """Mix every sample of a batch with a partner sample of the same batch.

    Runs on tensors already on the device, after normalisation (it is called
    by :class:`MixtureDataPreprocessor`).

    Args:
        alpha (float): ``lam ~ Beta(alpha, alpha)``; must be > 0.
            Defaults to 1.0 (uniform).
        mode (str): ``'mixup'``, ``'cutmix'`` or ``'random'`` (one of the two,
            chosen per batch with equal chance). Defaults to ``'mixup'``.
        pairing (str): ``'reverse'`` (``j = N-1-i``) or ``'random'``
            (a random permutation). Defaults to ``'reverse'``.
        lam_per (str): ``'batch'`` (one ``lam`` for the batch) or ``'sample'``
            (one per sample; mixup only, cutmix always uses one box and so one
            ``lam`` per batch). Defaults to ``'batch'``.
    """

    def __init__(self,
                 alpha: float = 1.0,
                 mode: str = 'mixup',
                 pairing: str = 'reverse',
                 lam_per: str = 'batch') -> None:
        alpha = check_number('InstanceMixer', 'alpha', alpha, gt=0)
        if mode not in MIX_MODES:
            raise ValueError(f'InstanceMixer: mode must be one of '
                             f'{MIX_MODES}, got mode={mode!r}')
        if pairing not in PAIRINGS:
            raise ValueError(f'InstanceMixer: pairing must be one of '
                             f'{PAIRINGS}, got pairing={pairing!r}')
        if lam_per not in LAM_SCOPES:
            raise ValueError(f'InstanceMixer: lam_per must be one of '
                             f'{LAM_SCOPES}, got lam_per={lam_per!r}')
        if mode == 'cutmix' and lam_per == 'sample':
            raise ValueError(
                "InstanceMixer: lam_per='sample' needs mode='mixup' or "
                "'random' (cutmix pastes one box per batch), got "
                "mode='cutmix'")
        self.alpha = float(alpha)
        self.mode = mode
        self.pairing = pairing
        self.lam_per = lam_per

    def sample_lam(self, num: int, device: torch.device) -> torch.Tensor:
        """Draw ``num`` ratios from ``Beta(alpha, alpha)`` on ``device``."""
        conc = torch.full((num, ), self.alpha, device=device)
        return torch.distributions.Beta(conc, conc).sample()

    def __call__(self,
                 images: torch.Tensor,
                 partner_images: Optional[torch.Tensor] = None) -> MixResult:
        """Mix a batch.

        Args:
            images (Tensor): ``(N, C, H, W)`` the own images ``a``.
            partner_images (Tensor, optional): ``(N, C, H, W)`` the images
                partners are taken from (``b``); defaults to ``images``.
        """
        if images.dim() != 4:
            raise ValueError('InstanceMixer expects (N, C, H, W) images, got '
                             f'shape {tuple(images.shape)}')
        b = images if partner_images is None else partner_images
        if b.shape != images.shape:
            raise ValueError('InstanceMixer: partner_images must have the '
                             f'shape of images {tuple(images.shape)}, got '
                             f'{tuple(b.shape)}')
        n, device = images.size(0), images.device
        partner = pair_indices(n, self.pairing, device)
        mode = self.mode
        if mode == 'random':
            mode = 'mixup' if torch.rand(()) < 0.5 else 'cutmix'
        if mode == 'cutmix':
            mixed, kept = cutmix(images, b, float(self.sample_lam(1, device)),
                                 partner)
            lam = torch.full((n, ), kept, device=device)
            return MixResult(mixed, lam, partner)
        if self.lam_per == 'sample':
            lam = self.sample_lam(n, device)
        else:
            lam = self.sample_lam(1, device).expand(n).clone()
        return MixResult(mixup(images, b, lam, partner), lam, partner)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(alpha={self.alpha}, '
                f"mode='{self.mode}', pairing='{self.pairing}', "
                f"lam_per='{self.lam_per}')")


# Where the mixing ratio and partner of each sample travel from the data
# preprocessor to the algorithm: fields of its DataSample.
LAM_FIELD = 'mix_lam'
PARTNER_FIELD = 'mix_partner'
# ``mix_partner`` of a mixture made in the pipeline (MixWithPartner): the
# partner is not in the batch; its key view is the last view of the sample.
PIPELINE_PARTNER = -1


def attach_mix_info(data_samples: List, lam: torch.Tensor,
                    partner: torch.Tensor) -> None:
    """Store each sample's ``lam`` and partner index in its data sample."""
    for sample, sample_lam, sample_partner in zip(data_samples, lam,
                                                  partner):
        sample.set_field(sample_lam, LAM_FIELD)
        sample.set_field(sample_partner, PARTNER_FIELD)


def collect_mix_info(data_samples: Optional[List]):
    """Read back ``(lam, partner)`` written by :func:`attach_mix_info`."""
    if not data_samples or not all(
            LAM_FIELD in s and PARTNER_FIELD in s for s in data_samples):
        raise ValueError(
            'No mixing information in the data samples: the model needs '
            "data_preprocessor=dict(type='MixtureDataPreprocessor', "
            "mixer=dict(type='InstanceMixer', ...)) to build the mixture "
            'view during training.')
    lam = torch.stack([s.get(LAM_FIELD) for s in data_samples])
    partner = torch.stack([s.get(PARTNER_FIELD) for s in data_samples])
    return lam, partner
