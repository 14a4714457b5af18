"""Faults at a checkpoint save, for a training process started by a test.

A test's config imports this module (``custom_imports``, with ``tests/`` on
``PYTHONPATH``) in a real ``tools/train.py`` process. ``BSIM_SAVE_FAULT``
says what happens at the save of ``epoch_2.pth``:

- ``write``: the process is killed (SIGKILL) halfway through writing it;
- ``last``: killed when ``last_checkpoint`` is about to name it (the
  checkpoint itself is complete);
- ``remove``: killed when the old ``epoch_1.pth`` is about to be removed;
- ``full``: when it is opened for writing, files may no longer grow past
  ``FULL_BYTES`` (``RLIMIT_FSIZE``: a write past it fails with ``EFBIG``,
  as one on a full disk fails with ``ENOSPC``).

Nothing happens without the variable.
"""
import builtins
import os
import os.path as osp
import resource
import signal

TARGET = 'epoch_2.pth'
FULL_BYTES = 100_000  # below a tiny test checkpoint, above its logs
FAULT = os.environ.get('BSIM_SAVE_FAULT')


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


class _HalfThenDie:
    """A binary file that writes half of the first write, then dies."""

    def __init__(self, f):
        self._f = f

    def write(self, data):
        self._f.write(data[:len(data) // 2])
        self._f.flush()
        os.fsync(self._f.fileno())
        _die()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()

    def __getattr__(self, name):
        return getattr(self._f, name)


_open, _replace, _remove = builtins.open, os.replace, os.remove


def _faulty_open(file, mode='r', *args, **kwargs):
    target = (isinstance(file, (str, os.PathLike)) and 'w' in mode
              and osp.basename(os.fspath(file)).startswith(TARGET))
    if target and FAULT == 'full':
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(
            resource.RLIMIT_FSIZE,
            (FULL_BYTES, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    f = _open(file, mode, *args, **kwargs)
    return _HalfThenDie(f) if target and FAULT == 'write' else f


def _names_target(path) -> bool:
    try:
        with _open(path) as f:
            return f.read().strip().endswith(TARGET)
    except OSError:
        return False


def _faulty_replace(src, dst, *args, **kwargs):
    is_last = osp.basename(os.fspath(dst)) == 'last_checkpoint'
    if FAULT == 'last' and is_last and _names_target(src):
        _die()
    _replace(src, dst, *args, **kwargs)


def _faulty_remove(path, *args, **kwargs):
    if FAULT == 'remove' and osp.basename(os.fspath(path)) == 'epoch_1.pth':
        _die()
    _remove(path, *args, **kwargs)


if FAULT in ('write', 'full'):
    builtins.open = _faulty_open
elif FAULT == 'last':
    os.replace = _faulty_replace
elif FAULT == 'remove':
    os.remove = _faulty_remove
elif FAULT is not None:
    raise ValueError(f'BSIM_SAVE_FAULT must be write, last, remove or '
                     f'full, got {FAULT!r}')
