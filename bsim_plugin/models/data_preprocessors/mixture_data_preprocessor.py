from typing import Optional, Sequence, Tuple, Union

from mmpretrain.models.utils.data_preprocessor import SelfSupDataPreprocessor
from mmpretrain.registry import BATCH_AUGMENTS, MODELS
from mmpretrain.structures import DataSample

from ..utils.mixer import InstanceMixer, attach_mix_info


@MODELS.register_module()
class MixtureDataPreprocessor(SelfSupDataPreprocessor):
    """Normalise the views, then append a mixture view (training only).

    After :class:`mmpretrain.models.SelfSupDataPreprocessor` has moved the
    views to the device and normalised them, the mixer mixes view
    ``mix_views[0]`` of every sample with view ``mix_views[1]`` of its
    partner. The mixed batch is appended to ``inputs`` (so a two-view
    pipeline yields ``[v1, v2, mixture]``), and each sample's ``lam`` and
    partner index are stored in its data sample (fields ``mix_lam`` and
    ``mix_partner``). At validation and test time nothing is mixed.

    With ``mixer=None`` it only normalises: the mixture then comes from the
    pipeline (:class:`MixWithPartner` under :class:`MixturePairDataset`).

    Args:
        mixer (dict | InstanceMixer | None): the mixer, built from
            ``BATCH_AUGMENTS``; ``None`` for a mixture made in the pipeline.
            Defaults to ``dict(type='InstanceMixer')``.
        mix_views (Tuple[int, int]): (own view, partner view). ``(0, 0)`` is
            BSIM (mix two instances' first views); ``(0, 1)`` mixes a query
            with the key view of its partner (SANE's momentum mixup).
            Defaults to ``(0, 0)``.
        mean, std, pad_size_divisor, pad_value, to_rgb, bgr_to_rgb,
        rgb_to_bgr, non_blocking: as in ``SelfSupDataPreprocessor``.
    """

    def __init__(self,
                 mixer: Optional[Union[dict, InstanceMixer]] = dict(
                     type='InstanceMixer'),
                 mix_views: Tuple[int, int] = (0, 0),
                 mean: Optional[Sequence[Union[float, int]]] = None,
                 std: Optional[Sequence[Union[float, int]]] = None,
                 pad_size_divisor: int = 1,
                 pad_value: Union[float, int] = 0,
                 to_rgb: bool = False,
                 bgr_to_rgb: bool = False,
                 rgb_to_bgr: bool = False,
                 non_blocking: Optional[bool] = False) -> None:
        super().__init__(
            mean=mean,
            std=std,
            pad_size_divisor=pad_size_divisor,
            pad_value=pad_value,
            to_rgb=to_rgb,
            bgr_to_rgb=bgr_to_rgb,
            rgb_to_bgr=rgb_to_bgr,
            non_blocking=non_blocking)
        if isinstance(mixer, dict):
            mixer = BATCH_AUGMENTS.build(mixer)
        if mixer is not None and not callable(mixer):
            raise TypeError('MixtureDataPreprocessor: mixer must be a config '
                            'dict, a callable mixer or None, got '
                            f'{mixer!r}')
        if (len(tuple(mix_views)) != 2
                or not all(isinstance(v, int) and v >= 0 for v in mix_views)):
            raise ValueError('MixtureDataPreprocessor: mix_views must be two '
                             'view indices >= 0, got '
                             f'mix_views={mix_views!r}')
        self.mixer = mixer
        self.mix_views = tuple(mix_views)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = super().forward(data, training)
        if not training or self.mixer is None:
            return data
        inputs = data['inputs']
        if not isinstance(inputs, list) or len(inputs) <= max(self.mix_views):
            num = len(inputs) if isinstance(inputs, list) else 1
            raise ValueError(
                f'MixtureDataPreprocessor: mix_views={self.mix_views} needs '
                f'at least {max(self.mix_views) + 1} views per sample, the '
                f'pipeline gave {num} (use MultiView in the train pipeline)')
        own, other = self.mix_views
        result = self.mixer(inputs[own],
                            None if other == own else inputs[other])
        data_samples = data['data_samples']
        if data_samples is None:
            data_samples = [DataSample() for _ in range(len(result.lam))]
        attach_mix_info(data_samples, result.lam, result.partner)
        return {
            'inputs': inputs + [result.images],
            'data_samples': data_samples
        }
