"""Find Fashion-MNIST and lay it out as mmpretrain's ``FashionMNIST`` reads it.

mmpretrain's dataset reads the four uncompressed idx files from its
``data_root``. They are taken, in order, from: the project data directory
(already prepared), a directory of ``.gz`` files (the Debian package
``dataset-fashion-mnist`` installs them in ``/usr/share/datasets/fashion-mnist``),
or mmpretrain's own download.

Nothing is ever written into a folder of ``.gz`` files or a folder that
cannot be written (a system folder such as the Debian package's): their
files are unpacked into the project's cache folder
(``$BSIM_CACHE_DIR/datasets/``, default ``~/.cache/bsim_plugin/datasets/``),
and the data set reads that copy.
"""
import gzip
import hashlib
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


def _has_sources(directory: str) -> bool:
    return osp.isdir(directory) and all(
        _source_file(directory, f) for f in FILES)


def _writable(path: str) -> bool:
    """Whether ``path`` (or the folder it would be created in) can be
    written."""
    path = osp.abspath(path)
    while not osp.exists(path):
        parent = osp.dirname(path)
        if parent == path:
            return False
        path = parent
    return osp.isdir(path) and os.access(path, os.W_OK | os.X_OK)


def cache_root() -> str:
    """The project's cache folder for unpacked data sets."""
    base = os.environ.get('BSIM_CACHE_DIR') or osp.join(
        osp.expanduser('~'), '.cache', 'bsim_plugin')
    return osp.join(base, 'datasets')


def unpacked_copy_dir(directory: str) -> str:
    """The cache folder for the files of ``directory``: named after the
    folder and its files' sizes and times, so changed files are unpacked
    again."""
    digest = hashlib.sha256(osp.abspath(directory).encode())
    for name in FILES:
        st = os.stat(_source_file(directory, name))
        digest.update(f'{name}:{st.st_size}:{st.st_mtime_ns}'.encode())
    return osp.join(cache_root(), f'fashion-mnist-{digest.hexdigest()[:16]}')


def _unpack_to_cache(directory: str) -> str:
    target = unpacked_copy_dir(directory)
    if not _complete(target):
        _copy_from(directory, target)
    return target


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
        str: the folder holding the uncompressed files: ``root``, or a
        folder of the project's cache (:func:`cache_root`) when ``root``
        holds ``.gz`` files or cannot be written. Read the data set from the
        returned folder.

    Raises:
        FileNotFoundError: with instructions when no source worked.
    """
    if _complete(root):
        return root
    if _has_sources(root):
        # A folder of .gz files (e.g. data_root set to the Debian
        # package's): read them through an unpacked copy, never write there.
        return _unpack_to_cache(root)
    if search_dirs is None:
        env = os.environ.get('BSIM_FASHION_MNIST_DIR')
        search_dirs = ([env] if env else []) + list(SYSTEM_DIRS)
    writable = _writable(root)
    for directory in search_dirs:
        if not _has_sources(directory):
            continue
        if not writable:
            return _unpack_to_cache(directory)
        if _copy_from(directory, root):
            return root
    error = None
    if download:
        target = root if writable else osp.join(cache_root(),
                                                'fashion-mnist-download')
        try:
            from mmpretrain.datasets import FashionMNIST
            FashionMNIST(data_root=target, split='train', download=True)
        except Exception as exc:  # network or checksum failure
            error = exc
        if _complete(target):
            return target
    message = HOW_TO_GET.format(files=', '.join(FILES), root=root)
    if error is not None:
        message += f'\n(download failed: {type(error).__name__}: {error})'
    raise FileNotFoundError(message)
