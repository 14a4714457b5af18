"""mmcv 2.1.0's adjust_hue under NumPy 2: the plugin's fix makes
mmpretrain's ColorJitter work and shifts hue as NumPy 1's wrap did."""
import colorsys

import mmcv
import numpy as np
import pytest
from mmpretrain.registry import TRANSFORMS

import bsim_plugin  # noqa: F401  (installs the fix where needed)
from bsim_plugin.utils import compat


def test_color_jitter_with_hue_runs():
    jitter = TRANSFORMS.build(
        dict(type='ColorJitter', brightness=0.4, contrast=0.4,
             saturation=0.4, hue=0.4))
    rng = np.random.default_rng(0)
    for _ in range(30):  # about half draw a negative hue factor
        img = rng.integers(0, 255, size=(8, 8, 3), dtype=np.uint8)
        out = jitter(dict(img=img))['img']
        assert out.shape == img.shape and out.dtype == np.uint8


@pytest.mark.parametrize('backend', ['pillow', 'cv2'])
@pytest.mark.parametrize('factor', [-0.3, -0.05, 0.2])
def test_hue_is_rotated_by_the_factor(backend, factor):
    # A saturated colour of known hue, BGR as mmcv expects.
    r, g, b = (np.array(colorsys.hsv_to_rgb(0.1, 1.0, 1.0)) * 255).round()
    img = np.full((4, 4, 3), (b, g, r), dtype=np.uint8)
    out = mmcv.adjust_hue(img, factor, backend=backend)
    b2, g2, r2 = out[0, 0].astype(float) / 255
    hue = colorsys.rgb_to_hsv(r2, g2, b2)[0]
    expected = (0.1 + int(factor * 255) / 256) % 1.0
    assert abs((hue - expected + 0.5) % 1.0 - 0.5) < 0.02


def test_the_fix_is_installed_only_where_mmcv_fails():
    assert compat.fix_mmcv_adjust_hue() == (compat._ORIGINAL is not None)
    if compat._ORIGINAL is not None:
        assert mmcv.adjust_hue is compat.adjust_hue
