"""A fix for mmcv 2.1.0's hue adjustment under NumPy 2.

``mmcv.adjust_hue`` shifts the hue channel with ``np.uint8(hue_factor *
255)``; NumPy 2 refuses to cast a negative number to ``uint8``
("OverflowError: Python integer -31 out of bounds for uint8"), so
mmpretrain's ``ColorJitter`` with ``hue > 0`` (SimCLR's, MoCo v2's, BYOL's
augmentations) fails on about half of the images. Under NumPy 1 the cast
wrapped around the hue circle; :func:`adjust_hue` does that shift
explicitly (``int(hue_factor * 255) mod 256``) and leaves every other case
to mmcv. It is installed only where mmcv's own function fails.
"""
import numpy as np

_ORIGINAL = None


def _shift_hue(h: np.ndarray, hue_factor: float) -> np.ndarray:
    shift = int(hue_factor * 255) % 256
    return ((h.astype(np.int16) + shift) % 256).astype(np.uint8)


def adjust_hue(img: np.ndarray, hue_factor: float, backend=None):
    """``mmcv.adjust_hue`` with negative factors wrapping as under NumPy 1."""
    if hue_factor >= 0 or not -0.5 <= hue_factor or not isinstance(
            img, np.ndarray) or img.ndim != 3:
        return _ORIGINAL(img, hue_factor, backend)
    import mmcv
    backend = backend or mmcv.image.photometric.imread_backend
    if backend == 'pillow':
        from PIL import Image
        pil = Image.fromarray(img[..., ::-1], mode='RGB')
        h, s, v = pil.convert('HSV').split()
        h = Image.fromarray(_shift_hue(np.array(h), hue_factor), 'L')
        out = Image.merge('HSV', (h, s, v)).convert('RGB')
        return np.array(out, dtype=img.dtype)[..., ::-1]
    import cv2
    dtype = img.dtype
    hsv = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV_FULL)
    h, s, v = cv2.split(hsv)
    hsv = cv2.merge([_shift_hue(h, hue_factor), s, v])
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL).astype(dtype)


def mmcv_hue_is_broken() -> bool:
    import mmcv
    img = np.zeros((2, 2, 3), dtype=np.uint8)
    try:
        mmcv.adjust_hue(img, -0.1, backend='pillow')
    except OverflowError:
        return True
    return False


def fix_mmcv_adjust_hue() -> bool:
    """Install :func:`adjust_hue` in mmcv if its own fails; idempotent.
    Returns whether the fix is in place."""
    global _ORIGINAL
    import mmcv
    import mmcv.image
    import mmcv.image.photometric as photometric
    if _ORIGINAL is not None:
        return True
    if not mmcv_hue_is_broken():
        return False
    _ORIGINAL = photometric.adjust_hue
    for module in (mmcv, mmcv.image, photometric):
        module.adjust_hue = adjust_hue
    return True
