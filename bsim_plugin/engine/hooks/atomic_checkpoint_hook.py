"""Checkpoints that survive a kill or a full disk, and resumes that refuse
another run's checkpoint.

mmengine's ``CheckpointHook`` removes the oldest checkpoint *before* it
writes the new one, writes the new one in place, and then points
``last_checkpoint`` at it. With ``max_keep_ckpts=1`` a process killed (or a
disk that fills up) during the write leaves no usable checkpoint at all: the
old one is gone, the new one is a fragment and ``last_checkpoint`` names a
missing file.
"""
import ast
import os
import os.path as osp
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from mmengine.runner.checkpoint import find_latest_checkpoint

from ...utils.strict_load import StateMismatch, compare_states

# Suffix of a checkpoint being written; such files are never read, and
# leftovers of a killed run are removed when training starts again.
PARTIAL_SUFFIX = '.incomplete'
LAST_CHECKPOINT = 'last_checkpoint'


def fsync_file(path: str) -> None:
    """Force the file's data to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str) -> None:
    """Make a rename inside ``path`` durable (where the OS allows it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a directory
        pass
    finally:
        os.close(fd)


def write_text_atomic(path: str, text: str) -> None:
    """Replace ``path`` by a file holding ``text``, all or nothing."""
    partial = path + PARTIAL_SUFFIX
    try:
        with open(partial, 'w') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
    except BaseException:
        _remove_quietly(partial)
        raise
    fsync_dir(osp.dirname(osp.abspath(path)))


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _unwrap(model):
    return model.module if is_model_wrapper(model) else model


def _strip_scope(name) -> Optional[str]:
    if not isinstance(name, str):
        return None
    return name.rsplit('.', 1)[-1]


def model_type_in_cfg_text(text: str) -> Optional[str]:
    """``model.type`` of a config dumped as Python (mmengine stores one in
    every checkpoint's ``meta['cfg']``), read without executing it."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, TypeError):
        return None
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == 'model'
                and isinstance(node.value, ast.Call)):
            for keyword in node.value.keywords:
                if keyword.arg == 'type' and isinstance(
                        keyword.value, ast.Constant):
                    return _strip_scope(keyword.value.value)
    return None


def checkpoint_algorithm(checkpoint: dict) -> Optional[str]:
    """The algorithm (model class) that wrote ``checkpoint``: recorded by
    :class:`AtomicCheckpointHook`, else read from the stored config."""
    meta = checkpoint.get('meta') or {}
    return meta.get('model_type') or model_type_in_cfg_text(
        meta.get('cfg', ''))


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook``, writing so that no work is lost.

    Every checkpoint is written to ``<name>.incomplete`` in the same folder,
    flushed and fsynced, and renamed over ``<name>`` (an atomic replace);
    ``last_checkpoint`` is replaced the same way, and only then are the
    checkpoints beyond ``max_keep_ckpts`` removed. Killed at any moment of a
    save, or stopped by a full disk, the run leaves the previous checkpoint
    complete and ``last_checkpoint`` naming a complete checkpoint, so
    ``--resume`` continues from it. A failed write removes its partial file
    and raises the error. Leftover ``.incomplete`` files of a killed run are
    removed when training starts again.

    On resume (not on ``load_from``) it also refuses a checkpoint of another
    run, before any state is loaded: another algorithm (model class), or a
    model of another shape (missing, unexpected or differently shaped
    tensors), with both names and the keys in the message.

    Takes mmengine's ``CheckpointHook`` arguments. Checkpoints to a
    non-local backend (``backend_args``, ``file_client_args``) are written
    by mmengine's code. ``save_best`` checkpoints are mmengine's too.
    """

    # ------------------------------------------------------------- saving
    def _atomic(self) -> bool:
        return self.file_client_args is None and isinstance(
            self.file_backend, LocalBackend)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if self._atomic() and is_main_process() and osp.isdir(self.out_dir):
            for name in os.listdir(self.out_dir):
                if name.endswith(PARTIAL_SUFFIX):
                    _remove_quietly(osp.join(self.out_dir, name))
                    runner.logger.info(
                        f'AtomicCheckpointHook: removed {name}, a checkpoint '
                        'left incomplete by an interrupted run')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        # What resume compares: the algorithm that wrote the checkpoint.
        checkpoint.setdefault('meta', {})['model_type'] = type(
            _unwrap(runner.model)).__name__

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        if not self._atomic():
            return super()._save_checkpoint_with_step(runner, step, meta)
        keep = self.max_keep_ckpts > 0
        ids = list(self.keep_ckpt_ids) if keep else []
        if not ids or ids[-1] != step:
            ids.append(step)
        # The ids still on disk, those to remove included: a run resumed
        # from this checkpoint after a kill before the removal removes them
        # (CheckpointHook.before_train keeps the newest max_keep_ckpts).
        if keep:
            runner.message_hub.update_info('keep_ckpt_ids', ids)
        ckpt_filename = self.filename_tmpl.format(step)
        path = self.file_backend.join_path(self.out_dir, ckpt_filename)
        previous_last = self.last_ckpt
        self.last_ckpt = path
        runner.message_hub.update_info('last_ckpt', path)

        partial_name = ckpt_filename + PARTIAL_SUFFIX
        partial = osp.join(self.out_dir, partial_name)
        try:
            runner.save_checkpoint(
                self.out_dir,
                partial_name,
                self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler,
                meta=meta,
                by_epoch=self.by_epoch,
                backend_args=self.backend_args,
                **self.args)
            if is_main_process():
                fsync_file(partial)
                os.replace(partial, path)
                fsync_dir(self.out_dir)
        except BaseException:
            if is_main_process():
                _remove_quietly(partial)
            self.last_ckpt = previous_last
            runner.message_hub.update_info('last_ckpt', previous_last)
            if keep:
                runner.message_hub.update_info('keep_ckpt_ids',
                                               list(self.keep_ckpt_ids))
            raise

        if is_main_process():
            write_text_atomic(
                osp.join(runner.work_dir, LAST_CHECKPOINT), path)
        if keep:
            old, ids = ids[:-self.max_keep_ckpts], ids[-self.max_keep_ckpts:]
            if is_main_process():
                for old_step in old:
                    old_path = self.file_backend.join_path(
                        self.out_dir, self.filename_tmpl.format(old_step))
                    if old_path != path and osp.isfile(old_path):
                        os.remove(old_path)
            self.keep_ckpt_ids.clear()
            self.keep_ckpt_ids.extend(ids)
            runner.message_hub.update_info('keep_ckpt_ids', ids)

    # ------------------------------------------------------------ resuming
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if getattr(runner, '_resume', False):
            check_resume(runner, checkpoint)


def check_resume(runner, checkpoint: dict) -> None:
    """Refuse to resume ``checkpoint`` into ``runner``'s model when another
    algorithm or a model of another shape wrote it.

    Raises:
        ValueError: naming both algorithms, or the tensors that differ.
    """
    model = _unwrap(runner.model)
    current = type(model).__name__
    cfg_type = _strip_scope((runner.cfg.get('model') or {}).get('type'))
    source = (getattr(runner, '_load_from', None)
              or find_latest_checkpoint(runner.work_dir) or 'the checkpoint')
    written_by = checkpoint_algorithm(checkpoint)
    if written_by is not None and written_by not in {current, cfg_type}:
        raise ValueError(
            f'resume refused: {source} was written by {written_by}, '
            f'this config builds {current}. Resume with the config that '
            f'wrote it, or train {current} in another work dir (or '
            'initialise from the weights with load_from instead of resume).')
    state = checkpoint.get('state_dict')
    if not isinstance(state, dict):
        raise ValueError(f'resume refused: {source} has no state_dict')
    try:
        compare_states(model.state_dict(), state)
    except StateMismatch as e:
        raise ValueError(
            f'resume refused: {source} ({written_by or "unknown algorithm"}) '
            f'does not have the shape of this config\'s {current}: '
            f'{e.details}. Resume with the config that wrote it.') from None
