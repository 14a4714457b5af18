import numpy as np
import pytest
from mmpretrain.registry import TRANSFORMS

import bsim_plugin  # noqa: F401


def grey(seed=0):
    return np.random.RandomState(seed).randint(40, 200, (28, 28)).astype(
        np.uint8)


def jitter(img, **kwargs):
    t = TRANSFORMS.build(dict(type='IntensityJitter', **kwargs))
    return t(dict(img=img.copy()))['img']


def test_brightness_scales_grey_images():
    img = grey()
    np.random.seed(1)
    out = jitter(img, brightness=0.5, contrast=0.0, prob=1.0)
    # One factor b in [0.5, 1.5] for the whole image, rounded and clipped.
    b = out.astype(float).sum() / img.astype(float).sum()
    assert 0.5 <= b <= 1.5 and abs(b - 1) > 1e-3
    expected = np.clip(np.rint(img.astype(np.float32) * np.float32(b)), 0,
                       255)
    assert np.abs(out.astype(float) - expected).max() <= 1
    assert out.shape == (28, 28) and out.dtype == np.uint8


def test_contrast_keeps_the_mean_and_scales_deviations():
    img = grey().astype(np.float32)  # float: no rounding or clipping
    np.random.seed(2)
    out = jitter(img, brightness=0.0, contrast=0.5, prob=1.0)
    np.testing.assert_allclose(out.mean(), img.mean(), rtol=1e-5)
    dev_in, dev_out = img - img.mean(), out - out.mean()
    c = (dev_out * dev_in).sum() / (dev_in**2).sum()
    assert 0.5 <= c <= 1.5
    np.testing.assert_allclose(dev_out, c * dev_in, rtol=1e-4, atol=1e-3)


def test_three_channel_images_and_probability():
    img = np.random.RandomState(0).randint(0, 255, (8, 8, 3)).astype(
        np.uint8)
    assert jitter(img, prob=1.0).shape == (8, 8, 3)
    # prob=0 leaves the image untouched
    np.testing.assert_array_equal(jitter(img, prob=0.0), img)
    np.random.seed(0)
    changed = sum(not np.array_equal(jitter(img, prob=0.3), img)
                  for _ in range(400))
    assert 80 <= changed <= 160


@pytest.mark.parametrize('kwargs, name', [
    (dict(brightness=1.5), 'brightness=1.5'),
    (dict(contrast=-0.1), 'contrast=-0.1'),
    (dict(contrast=float('nan')), 'contrast=nan'),
    (dict(prob=2), 'prob=2'),
])
def test_bad_values_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        TRANSFORMS.build(dict(type='IntensityJitter', **kwargs))
