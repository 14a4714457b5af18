import os
import os.path as osp

import pytest
from mmpretrain.datasets import FashionMNIST

from bsim_plugin.datasets import prepare_fashion_mnist
from bsim_plugin.datasets.fashion_mnist import FILES
from conftest import make_fashion_like


def test_prepares_from_a_directory_of_gz_files(tmp_path):
    src = make_fashion_like(str(tmp_path / 'debian'), compress=True)
    root = str(tmp_path / 'data' / 'fashion_mnist')
    assert prepare_fashion_mnist(root, search_dirs=[src],
                                 download=False) == root
    assert all(osp.isfile(osp.join(root, f)) for f in FILES)
    # mmpretrain's own dataset reads the prepared directory.
    train = FashionMNIST(data_root=root, split='train', download=False)
    # mmpretrain 1.2.0 picks the files by test_mode, not by split.
    test = FashionMNIST(
        data_root=root, split='test', test_mode=True, download=False)
    assert len(train) == 64 and len(test) == 32
    assert train[0]['img'].shape == (28, 28)
    # Prepared data is used as it is (the source may go away).
    assert prepare_fashion_mnist(root, search_dirs=[], download=False)


def test_missing_data_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        prepare_fashion_mnist(
            str(tmp_path / 'nothing'), search_dirs=[str(tmp_path / 'nope')],
            download=False)
    message = str(err.value)
    assert 'apt-get install dataset-fashion-mnist' in message
    assert str(tmp_path / 'nothing') in message
    assert 'BSIM_FASHION_MNIST_DIR' in message


def test_a_read_only_folder_of_gz_files_is_never_written(
        tmp_path, monkeypatch):
    """data_root set to a folder of .gz files (as the Debian package's):
    training reads them through an unpacked copy in the project's cache and
    writes nothing into that folder (read-only here; as root the mode would
    not stop a write, so the test compares the folder's contents)."""
    from mmengine.runner import Runner

    from bsim_plugin.apis import prepare_config_data
    from helpers import tiny_config
    src = make_fashion_like(str(tmp_path / 'system'), compress=True)
    before = sorted(os.listdir(src))
    cache = tmp_path / 'cache'
    monkeypatch.setenv('BSIM_CACHE_DIR', str(cache))
    os.chmod(src, 0o555)
    try:
        cfg = tiny_config(str(tmp_path / 'work'), src, max_epochs=1)
        prepare_config_data(cfg)
        runner = Runner.from_cfg(cfg)
        runner.train()
    finally:
        os.chmod(src, 0o755)
    assert sorted(os.listdir(src)) == before
    root = cfg.train_dataloader.dataset.data_root
    assert root.startswith(str(cache)) and sorted(os.listdir(root)) == \
        sorted(FILES)
    assert runner.iter == 4
