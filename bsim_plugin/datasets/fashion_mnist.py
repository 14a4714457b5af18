"""Find Fashion-MNIST and lay it out as mmpretrain's ``FashionMNIST`` reads it.

mmpretrain's dataset reads the four uncompressed idx files from its
``data_root``. They are taken, in order, from: the project data directory
(already prepared), a directory of ``.gz`` files (the Debian package
``dataset-fashion-mnist`` installs them in ``/usr/share/datasets/fashion-mnist``),
or mmpretrain's own download.
"""
import gzip
import os
import os.path as osp
import shutil
from typing import Optional, Sequence

FILES = ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte',
         't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')
DEFAULT_DATA_ROOT = 'data/fashion_mnist'
SYSTEM_DIRS = ('/usr/share/datasets/fashion-mnist', )

HOW_TO_GET = (
    'Fashion-MNIST was not found. Get it in one of these ways:\n'
    '  * Debian/Ubuntu: apt-get install dataset-fashion-mnist  (installs '
    '/usr/share/datasets/fashion-mnist)\n'
    '  * put the four files {files} (or their .gz) in {root}\n'
    '  * or set BSIM_FASHION_MNIST_DIR to a directory holding them.')


def _complete(root: str) -> bool:
    return all(osp.isfile(osp.join(root, f)) for f in FILES)


def _source_file(directory: str, name: str) -> Optional[str]:
    for candidate in (name, name + '.gz'):
        path = osp.join(directory, candidate)
        if osp.isfile(path):
            return path
    return None


def _copy_from(directory: str, root: str) -> bool:
    sources = [_source_file(directory, f) for f in FILES]
    if not all(sources):
        return False
    os.makedirs(root, exist_ok=True)
    for src, name in zip(sources, FILES):
        tmp = osp.join(root, f'{name}.{os.getpid()}.part')
        opener = gzip.open if src.endswith('.gz') else open
        with opener(src, 'rb') as fin, open(tmp, 'wb') as fout:
            shutil.copyfileobj(fin, fout)
        os.replace(tmp, osp.join(root, name))
    return True


def prepare_fashion_mnist(root: str = DEFAULT_DATA_ROOT,
                          search_dirs: Optional[Sequence[str]] = None,
                          download: bool = True) -> str:
    """Make sure ``root`` holds the uncompressed Fashion-MNIST idx files.

    Args:
        root (str): the project's data directory. Defaults to
            ``data/fashion_mnist``.
        search_dirs (Sequence[str], optional): directories with the files or
            their ``.gz``; defaults to ``$BSIM_FASHION_MNIST_DIR`` and the
            Debian package's directory.
        download (bool): fall back to mmpretrain's download.

    Returns:
        str: ``root``.

    Raises:
        FileNotFoundError: with instructions when no source worked.
    """
    if _complete(root):
        return root
    if search_dirs is None:
        env = os.environ.get('BSIM_FASHION_MNIST_DIR')
        search_dirs = ([env] if env else []) + list(SYSTEM_DIRS)
    for directory in search_dirs:
        if osp.isdir(directory) and _copy_from(directory, root):
            return root
    error = None
    if download:
        try:
            from mmpretrain.datasets import FashionMNIST
            FashionMNIST(data_root=root, split='train', download=True)
        except Exception as exc:  # network or checksum failure
            error = exc
        if _complete(root):
            return root
    message = HOW_TO_GET.format(files=', '.join(FILES), root=root)
    if error is not None:
        message += f'\n(download failed: {type(error).__name__}: {error})'
    raise FileNotFoundError(message)
