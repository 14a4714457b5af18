"""A convolution that computes one-pixel outputs as one matrix product.

A ResNet-18 with the ImageNet stem on 28 px images (the CPU recipe) runs
its last stage on 1x1 and 2x2 maps, where a 3x3 convolution's output is a
single pixel and most of its taps meet the zero padding. oneDNN's AVX2
kernels compute the weight gradient of such a convolution with im2col per
sample: on a 2-core AMD EPYC with AVX2 the three 512-channel 3x3
convolutions on 1x1 maps took 1.1 s of a 2.2 s forward and backward of
256 images, about a hundred times their arithmetic. When the output is one
pixel, the convolution is a matrix product of the input window with the
taps that meet the input, which BLAS computes at full speed; the result is
the same function (the other taps only ever multiply zeros, so their
gradients are zero either way), up to the order in which the products are
summed.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS


def _taps(size: int, kernel: int, stride: int, padding: int,
          dilation: int):
    """``(first tap, count)`` of the taps that meet the input along one
    axis when the output there is one pixel, or None when it is not (or
    the dilation spreads the taps)."""
    if dilation != 1 or (size + 2 * padding - kernel) // stride + 1 != 1:
        return None
    # The only window starts at -padding: tap t reads input t - padding.
    first = padding
    count = min(size, kernel - padding)
    return (first, count) if count > 0 else None


@MODELS.register_module('SinglePixelConv2d')
class SinglePixelConv2d(nn.Conv2d):
    """``nn.Conv2d`` that computes a one-pixel output as a matrix product.

    Same parameters, buffers and state-dict keys as ``nn.Conv2d`` (an
    exported backbone loads into a plain one); for inputs whose output is
    larger than one pixel, or with groups, dilation or non-zero padding
    modes, it is ``nn.Conv2d``. Use it through mmcv's ``conv_cfg``, e.g.
    ``backbone=dict(type='ResNet', conv_cfg=dict(type='SinglePixelConv2d'))``
    in mmpretrain and mmdet alike.
    """

    def _conv_forward(self, x: torch.Tensor, weight: torch.Tensor,
                      bias) -> torch.Tensor:
        if (self.groups == 1 and self.padding_mode == 'zeros'
                and not isinstance(self.padding, str) and x.dim() == 4):
            rows = _taps(x.shape[-2], self.kernel_size[0], self.stride[0],
                         self.padding[0], self.dilation[0])
            cols = _taps(x.shape[-1], self.kernel_size[1], self.stride[1],
                         self.padding[1], self.dilation[1])
            if rows and cols:
                (r0, nr), (c0, nc) = rows, cols
                window = x[:, :, :nr, :nc].flatten(1)
                taps = weight[:, :, r0:r0 + nr, c0:c0 + nc].flatten(1)
                out = F.linear(window, taps, bias)
                return out[:, :, None, None]
        return super()._conv_forward(x, weight, bias)
