"""What tools/train.py and tools/test.py do besides mmengine's Runner."""
import gc
import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log

from ..datasets.fashion_mnist import prepare_fashion_mnist


def setup_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Let the ``pytorch`` launcher run on machines without a GPU.

    mmengine's ``init_dist`` calls ``torch.cuda.set_device``, and its DDP
    wrapper passes ``device_ids=[LOCAL_RANK]``; both fail on CPU. Without
    CUDA this starts the process group with the gloo backend itself (the
    Runner then skips ``init_dist``) and wraps the model with
    ``device_ids=None``.

    Returns:
        bool: whether the CPU set-up was applied.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        raise RuntimeError(
            f'--launcher {launcher} without a GPU is not supported; use '
            'tools/dist_train.sh (the pytorch launcher) for CPU runs.')
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')
    cfg.env_cfg = cfg.get('env_cfg', {})
    cfg.env_cfg['dist_cfg'] = dict(backend='gloo')
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters',
                       cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper
    return True


def _datasets(node):
    """Every dict with a ``type`` key nested anywhere in ``node``."""
    if isinstance(node, dict):
        if 'type' in node:
            yield node
        for value in node.values():
            yield from _datasets(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _datasets(value)


def prepare_config_data(cfg: Config) -> None:
    """Lay out the data sets a config needs that the plugin can prepare.

    Fashion-MNIST configs get their idx files from the project data
    directory, the Debian package or a download (see
    :func:`prepare_fashion_mnist`); a clear error says how to get them
    otherwise. A ``data_root`` holding ``.gz`` files, or one that cannot be
    written, is replaced in ``cfg`` by the unpacked copy in the project's
    cache folder: nothing is written into it.
    """
    nodes = {}
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for node in _datasets(cfg.get(key) or {}):
            if node.get('type') == 'FashionMNIST':
                root = node.get('data_root') or node.get('data_prefix')
                if isinstance(root, str) and root:
                    nodes.setdefault(root, []).append(node)
    for root in sorted(nodes):
        ready = prepare_fashion_mnist(root, download=os.environ.get(
            'BSIM_NO_DOWNLOAD', '0') != '1')
        if ready == root:
            continue
        # A folder of .gz files or one that cannot be written: the data
        # sets read the unpacked copy in the cache instead.
        print_log(f'Fashion-MNIST: {root} is read through the unpacked '
                  f'copy in {ready}', logger='current')
        for node in nodes[root]:
            node['data_root' if node.get('data_root') else
                 'data_prefix'] = ready


def shutdown_distributed() -> None:
    """Wait for every process, then tear the process group down.

    Call it after the last reference to the Runner is gone. The DDP
    wrapper (its reducer) and the gloo process group are then freed here,
    while the interpreter is fully alive. Left to interpreter shutdown,
    they were freed by the final garbage collection, where a gloo thread
    that needs the GIL is ended by ``pthread_exit`` and the process aborts
    ("terminate called without an active exception") after a run that had
    finished: about 1 run in 30 of a 2-process CPU run on a loaded machine.
    """
    # The Runner, its model and DDP's reducer sit in reference cycles.
    gc.collect()
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
    gc.collect()
