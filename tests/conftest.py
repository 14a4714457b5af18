import gzip
import os
import os.path as osp
import struct
import sys

import numpy as np
import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import bsim_plugin  # noqa: E402,F401

CONFIG_DIR = osp.join(ROOT, 'configs')
FILES = ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte',
         't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')


def write_idx(path: str, array: np.ndarray, compress: bool = False) -> None:
    """Write a uint8 array in the idx format of (Fashion-)MNIST."""
    header = struct.pack('>I', 0x0800 + array.ndim) + b''.join(
        struct.pack('>I', d) for d in array.shape)
    opener = gzip.open if compress else open
    with opener(path + ('.gz' if compress else ''), 'wb') as f:
        f.write(header + array.astype(np.uint8).tobytes())


def make_fashion_like(root: str,
                      num_train: int = 64,
                      num_test: int = 32,
                      compress: bool = False,
                      seed: int = 0) -> str:
    """A tiny 10-class, 28x28 data set in Fashion-MNIST's file layout.

    Each class is a bright bar at its own position plus noise, so a kNN on
    raw pixels separates them.
    """
    rng = np.random.RandomState(seed)
    os.makedirs(root, exist_ok=True)

    def images(labels):
        imgs = rng.randint(0, 60, size=(len(labels), 28, 28))
        for img, label in zip(imgs, labels):
            img[2 + 2 * label:5 + 2 * label, 4:24] = 230
        return imgs

    train_labels = np.arange(num_train) % 10
    test_labels = np.arange(num_test) % 10
    arrays = (images(train_labels), train_labels, images(test_labels),
              test_labels)
    for name, array in zip(FILES, arrays):
        write_idx(osp.join(root, name), array, compress=compress)
    return root


@pytest.fixture(scope='session')
def tiny_fashion_root(tmp_path_factory) -> str:
    return make_fashion_like(str(tmp_path_factory.mktemp('fashion')))


# One thread everywhere, set before any fixture runs: CPU kernels then
# reduce in the same order in every run, which the exact-resume and DDP
# comparisons rely on (and two cores are not oversubscribed).
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def restore_default_scope():
    """Give every test the default registry scope it started with.

    ``init_default_scope`` and mmengine's Runner create a process-wide
    ``DefaultScope`` that outlives the test; without this, a test that runs
    an mmdet config leaves the scope at ``mmdet`` and a later
    ``MODELS.build`` of a ``BSIM*`` type looks in mmdet's registry.
    """
    from mmengine.registry import DefaultScope
    saved = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)
