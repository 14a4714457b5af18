from typing import Dict, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmpretrain.registry import TRANSFORMS

from ...utils.validation import check_number


def _factor_range(value: float, name: str) -> Tuple[float, float]:
    value = check_number('IntensityJitter', name, value, ge=0, lt=1)
    return 1.0 - value, 1.0 + value


@TRANSFORMS.register_module()
class IntensityJitter(BaseTransform):
    """Random brightness and contrast for grey (or any) images.

    mmpretrain's ``ColorJitter`` converts to grey through a BGR image and
    fails on single-channel ones; this is its brightness/contrast part for
    any channel count, in random order (as torchvision's ``ColorJitter``):

    * brightness: ``img * b``, ``b ~ U[1 - brightness, 1 + brightness]``
    * contrast: ``mean + c * (img - mean)``, ``c ~ U[1 - contrast,
      1 + contrast]``, ``mean`` the image's mean intensity

    The result is clipped to [0, 255] and keeps the input dtype.

    Args:
        brightness (float): in [0, 1). Defaults to 0.4.
        contrast (float): in [0, 1). Defaults to 0.4.
        prob (float): probability of applying the jitter. Defaults to 0.8.
    """

    def __init__(self,
                 brightness: float = 0.4,
                 contrast: float = 0.4,
                 prob: float = 0.8) -> None:
        self.brightness = _factor_range(brightness, 'brightness')
        self.contrast = _factor_range(contrast, 'contrast')
        self.prob = check_number('IntensityJitter', 'prob', prob, ge=0, le=1)

    @cache_randomness
    def _params(self):
        if np.random.rand() >= self.prob:
            return None
        return (np.random.uniform(*self.brightness),
                np.random.uniform(*self.contrast), np.random.rand() < 0.5)

    def transform(self, results: Dict) -> Dict:
        params = self._params()
        if params is None:
            return results
        b, c, brightness_first = params
        img = results['img']
        out = img.astype(np.float32)
        if brightness_first:
            out *= b
        out = out.mean() + c * (out - out.mean())
        if not brightness_first:
            out *= b
        if np.issubdtype(img.dtype, np.integer):
            out = np.clip(np.rint(out), 0, 255)
        results['img'] = out.astype(img.dtype)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(brightness={self.brightness}, '
                f'contrast={self.contrast}, prob={self.prob})')
