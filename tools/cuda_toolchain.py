"""The CUDA toolchain for building mmcv's CUDA ops (used by setup_env.sh).

    python tools/cuda_toolchain.py flavor        # cuda | cpu: what to build
    python tools/cuda_toolchain.py arch-list     # TORCH_CUDA_ARCH_LIST to use
    python tools/cuda_toolchain.py cuda-home DIR # a CUDA_HOME with nvcc

``flavor``: ``$BSIM_MMCV_OPS`` (``cuda`` or ``cpu``) if set, else ``cuda``
when torch sees a GPU, else ``cpu``.

``arch-list``: ``$TORCH_CUDA_ARCH_LIST`` if set, else the compute
capabilities of the visible GPUs (``8.0;9.0``); without either it fails
(a CUDA build without a GPU needs the list, e.g. ``TORCH_CUDA_ARCH_LIST=9.0``).

``cuda-home DIR``: prints a ``CUDA_HOME`` whose ``nvcc`` matches
``torch.version.cuda``: ``$CUDA_HOME`` or the ``nvcc`` on ``PATH`` when its
release matches; otherwise NVIDIA's compiler wheels for that release are
installed into this Python's environment from the package registry
(``nvidia-cuda-nvcc``, its ``nvidia-nvvm`` / ``nvidia-cuda-crt``
dependencies and ``nvidia-cuda-cccl``; ``-cu12`` names for CUDA 12) and
``DIR`` is laid out as a toolkit (``bin``, ``nvvm``, ``include``, ``lib64``
as links into those wheels, with the unversioned ``libcudart.so`` the linker
needs). Exits with status 1 and says what to install when none can be had.
"""
import glob
import os
import os.path as osp
import re
import shutil
import subprocess
import sys


def say(message: str) -> None:
    print(f'[cuda_toolchain] {message}', file=sys.stderr, flush=True)


def fail(message: str) -> None:
    say('ERROR: ' + message)
    sys.exit(1)


def torch_cuda() -> str:
    import torch
    if torch.version.cuda is None:
        fail(f'torch {torch.__version__} is a CPU-only build: CUDA ops '
             'need a CUDA build of torch')
    return torch.version.cuda


def flavor() -> str:
    wanted = os.environ.get('BSIM_MMCV_OPS', '').strip().lower()
    if wanted in ('cuda', 'cpu'):
        return wanted
    if wanted:
        fail(f"BSIM_MMCV_OPS must be 'cuda' or 'cpu', got {wanted!r}")
    import torch
    return 'cuda' if torch.cuda.is_available() else 'cpu'


def arch_list() -> str:
    given = os.environ.get('TORCH_CUDA_ARCH_LIST', '').strip()
    if given:
        return given
    import torch
    if not torch.cuda.is_available():
        fail('no GPU is visible and TORCH_CUDA_ARCH_LIST is not set: set it '
             'to the compute capabilities to build for, e.g. '
             'TORCH_CUDA_ARCH_LIST=9.0 (H100/H200) or "8.0;8.6" (A100, '
             'RTX 30xx)')
    caps = sorted({
        '{}.{}'.format(*torch.cuda.get_device_capability(i))
        for i in range(torch.cuda.device_count())
    })
    return ';'.join(caps)


def nvcc_release(nvcc: str):
    """``'13.0'`` from ``nvcc --version``, or None."""
    try:
        out = subprocess.run([nvcc, '--version'], capture_output=True,
                             text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'release (\d+\.\d+)', out)
    return match.group(1) if match else None


def nvcc_home(nvcc: str):
    """The toolkit folder of ``nvcc``, as nvcc itself reports it (its
    ``_HERE_``: right through wrapper scripts and links)."""
    try:
        out = subprocess.run(
            [nvcc, '--dryrun', '-c', '-x', 'cu', os.devnull, '-o',
             os.devnull], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'^#\$ _HERE_=(.+)$', out.stdout + out.stderr, re.M)
    return osp.dirname(match.group(1).strip()) if match else None


def system_cuda_home(release: str):
    """``$CUDA_HOME`` or the toolkit of the ``nvcc`` on ``PATH``, when its
    release is torch's and it has the runtime headers."""
    candidates = []
    if os.environ.get('CUDA_HOME'):
        candidates.append(osp.join(os.environ['CUDA_HOME'], 'bin', 'nvcc'))
    if shutil.which('nvcc'):
        candidates.append(shutil.which('nvcc'))
    for nvcc in candidates:
        found = nvcc_release(nvcc)
        home = nvcc_home(nvcc) if found == release else None
        if home and osp.isfile(osp.join(home, 'include', 'cuda_runtime.h')):
            return home
        if found and found != release:
            say(f'{nvcc} is CUDA {found}, torch is built with CUDA {release}:'
                ' not used')
    return None


def nvidia_roots():
    """Folders of the ``nvidia`` namespace package in this environment."""
    try:
        import nvidia
    except ImportError:
        return []
    return list(getattr(nvidia, '__path__', []))


def find_wheel_nvcc():
    for root in nvidia_roots():
        for nvcc in sorted(glob.glob(osp.join(root, '*', 'bin', 'nvcc'))):
            return nvcc
    return None


def install_compiler(release: str) -> None:
    major = release.split('.')[0]
    # nvcc's own dependencies (nvvm, crt) are pinned too: an unpinned newer
    # nvvm emits PTX that this release's ptxas refuses.
    names = (['nvidia-cuda-nvcc', 'nvidia-nvvm', 'nvidia-cuda-crt',
              'nvidia-cuda-cccl'] if int(major) >= 13 else
             [f'nvidia-cuda-nvcc-cu{major}', f'nvidia-cuda-cccl-cu{major}'])
    specs = [f'{name}=={release}.*' for name in names]
    say(f'no nvcc for CUDA {release}: installing {" ".join(specs)} from the '
        'package registry (about 100 MB)')
    result = subprocess.run(
        [sys.executable, '-m', 'pip', 'install', '-q',
         '--disable-pip-version-check', *specs])
    if result.returncode != 0:
        fail(f'could not install {" ".join(specs)}. Install the CUDA '
             f'toolkit {release} (nvcc and headers), set CUDA_HOME to it and '
             'run again; or set BSIM_MMCV_OPS=cpu to build CPU-only ops '
             "knowingly (mmdet's RoIAlign and nms then fail on GPU tensors)")


def compiler_pinned(release: str) -> bool:
    """nvvm (CUDA >= 13 ships it apart from nvcc) is of nvcc's release."""
    if int(release.split('.')[0]) < 13:
        return True
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version('nvidia-nvvm').startswith(release + '.')
    except PackageNotFoundError:
        return False


def link(src: str, dst: str) -> None:
    if not osp.lexists(dst):
        os.symlink(src, dst)


def lay_out(nvcc: str, out: str) -> str:
    """A toolkit-shaped folder of links into the installed wheels."""
    top = osp.dirname(osp.dirname(nvcc))
    os.makedirs(out, exist_ok=True)
    link(osp.dirname(nvcc), osp.join(out, 'bin'))
    if osp.isdir(osp.join(top, 'nvvm')):
        link(osp.join(top, 'nvvm'), osp.join(out, 'nvvm'))
    include, lib64 = osp.join(out, 'include'), osp.join(out, 'lib64')
    os.makedirs(include, exist_ok=True)
    os.makedirs(lib64, exist_ok=True)
    for root in nvidia_roots():
        for package in sorted(glob.glob(osp.join(root, '*'))):
            for entry in sorted(glob.glob(osp.join(package, 'include', '*'))):
                link(entry, osp.join(include, osp.basename(entry)))
            for lib in sorted(glob.glob(osp.join(package, 'lib', '*'))):
                name = osp.basename(lib)
                link(lib, osp.join(lib64, name))
                # libcudart.so.13 -> libcudart.so for the linker's -lcudart
                bare = re.sub(r'\.so\.[\d.]+$', '.so', name)
                if bare != name:
                    link(lib, osp.join(lib64, bare))
    return out


def cuda_home(out: str) -> str:
    release = torch_cuda()
    home = system_cuda_home(release)
    if home:
        return home
    nvcc = find_wheel_nvcc()
    if nvcc is None or nvcc_release(nvcc) != release or \
            not compiler_pinned(release):
        install_compiler(release)
        nvcc = find_wheel_nvcc()
    if nvcc is None or nvcc_release(nvcc) != release:
        fail(f'the installed compiler wheels give no nvcc for CUDA '
             f'{release} ({nvcc}); install the CUDA toolkit {release} and set '
             'CUDA_HOME')
    home = lay_out(nvcc, out)
    found = nvcc_release(osp.join(home, 'bin', 'nvcc'))
    if found != release:
        fail(f'{home}/bin/nvcc does not run (release {found})')
    return home


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in ('flavor', 'arch-list', 'cuda-home') or (
            argv[0] == 'cuda-home' and len(argv) != 2):
        fail('usage: cuda_toolchain.py flavor | arch-list | cuda-home DIR')
    if argv[0] == 'flavor':
        print(flavor())
    elif argv[0] == 'arch-list':
        print(arch_list())
    else:
        print(cuda_home(argv[1]))


if __name__ == '__main__':
    main()
