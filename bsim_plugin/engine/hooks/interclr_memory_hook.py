import copy
from typing import Optional

import torch
from mmengine.dataset import default_collate
from mmengine.dist import all_gather, broadcast, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.utils import ProgressBar
from mmpretrain.registry import DATASETS, HOOKS

from ...models.memories import kmeans


@HOOKS.register_module()
class InterCLRMemoryHook(Hook):
    """Fill an InterCLR model's memory before training and report on it.

    ``before_train`` (unless the memory came with a resumed checkpoint):
    embeds every training image without augmentation (the training data
    set with ``pipeline``) with the momentum encoder, each process a
    strided share, gathered; process 0 runs :func:`kmeans` and broadcasts
    labels and centroids (once), so every process starts from the same
    memory. Progress is printed while embedding and clustering.

    During training it logs the cluster statistics every ``interval``
    iterations (empty clusters, min / median / max size) and, at each
    epoch's end, the share of samples whose label changed in the epoch.

    Args:
        pipeline (list, optional): the deterministic pipeline to embed with.
            Defaults to ``[dict(type='PackInputs')]`` (in-memory data sets
            such as Fashion-MNIST or CIFAR-10; give resize + crop for
            images read from files).
        batch_size (int): images per forward pass. Defaults to 256.
        kmeans_iters (int): Lloyd iterations. Defaults to 20.
        backend (str): k-means backend (``auto``, ``faiss``, ``torch``).
        seed (int): k-means seed. Defaults to 0.
        interval (int): iterations between cluster-statistics logs.
            Defaults to 50.
        offline_interval (int, optional): re-embed and re-cluster the whole
            data set before every ``offline_interval``-th epoch (offline
            labels; pair with ``label_update='offline'`` in the model).
            Defaults to None (online labels only).
    """
    priority = 'HIGH'

    def __init__(self,
                 pipeline: Optional[list] = None,
                 batch_size: int = 256,
                 kmeans_iters: int = 20,
                 backend: str = 'auto',
                 seed: int = 0,
                 interval: int = 50,
                 offline_interval: Optional[int] = None) -> None:
        self.pipeline = pipeline or [dict(type='PackInputs')]
        self.batch_size = batch_size
        self.kmeans_iters = kmeans_iters
        self.backend = backend
        self.seed = seed
        self.interval = interval
        if offline_interval is not None and (
                isinstance(offline_interval, bool)
                or not isinstance(offline_interval, int)
                or offline_interval < 1):
            raise ValueError('InterCLRMemoryHook: offline_interval must be '
                             'an int >= 1 or None, got '
                             f'offline_interval={offline_interval!r}')
        self.offline_interval = offline_interval
        self._epoch_labels = None

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    @torch.no_grad()
    def embed(self, runner, model) -> torch.Tensor:
        """The memory keys (:meth:`InterCLRMoCo.memory_keys`) of every
        training image, in dataset order."""
        cfg = copy.deepcopy(runner.cfg.train_dataloader.dataset)
        cfg['pipeline'] = self.pipeline
        dataset = DATASETS.build(cfg)
        n = len(dataset)
        rank, world = get_rank(), get_world_size()
        mine = list(range(rank, n, world))
        loader = torch.utils.data.DataLoader(
            torch.utils.data.Subset(dataset, mine),
            batch_size=self.batch_size,
            shuffle=False,
            collate_fn=default_collate)
        runner.logger.info(f'InterCLRMemoryHook: embedding {n} training '
                           'images with the momentum encoder')
        bar = ProgressBar(len(mine)) if rank == 0 else None
        was_training = model.training
        model.eval()
        feats = []
        for batch in loader:
            data = model.data_preprocessor(batch, training=False)
            inputs = data['inputs']
            inputs = inputs[0] if isinstance(inputs, list) else inputs
            feats.append(model.memory_keys(inputs))
            if bar is not None:
                bar.update(len(inputs))
        model.train(was_training)
        if bar is not None:
            print(flush=True)
        local = torch.cat(feats)
        # Strided shares, padded to one length for the gather.
        size = -(-n // world)
        padded = local.new_zeros(size, local.size(1))
        padded[:len(local)] = local
        out = local.new_zeros(n, local.size(1))
        for r, part in enumerate(all_gather(padded)):
            count = len(range(r, n, world))
            out[r::world] = part[:count]
        return out

    @staticmethod
    def check_length(memory, num_images: int, restored: bool) -> None:
        """One memory row per training image, or a clear error."""
        if num_images == len(memory):
            return
        if restored:
            raise ValueError(
                f'InterCLRMemoryHook: the memory restored from the '
                f'checkpoint has length {len(memory)}, the training data set '
                f'{num_images} images: resume with the data set it was '
                f'trained on ({len(memory)} images), or start a new run')
        raise ValueError(
            f'InterCLRMemoryHook: the memory has length {len(memory)}, '
            f'the training data set {num_images} images: set '
            'model.memory.length to the data set length')

    def before_train(self, runner) -> None:
        model = self._model(runner)
        if bool(model.memory.initialized):
            # Rows are indexed by sample_idx: a data set of another length
            # would index past the memory or train on stale rows.
            self.check_length(model.memory,
                              len(runner.train_dataloader.dataset),
                              restored=True)
            runner.logger.info('InterCLRMemoryHook: memory restored from the '
                               'checkpoint')
            return
        self.build(runner, model)

    def build(self, runner, model) -> None:
        """Embed the whole training set and cluster it into the memory."""
        memory = model.memory
        self.check_length(memory, len(runner.train_dataloader.dataset),
                          restored=False)
        feats = self.embed(runner, model)
        self.check_length(memory, len(feats), restored=False)
        if get_rank() == 0:
            centroids, labels = kmeans(
                feats, memory.num_clusters, iters=self.kmeans_iters,
                seed=self.seed, backend=self.backend, verbose=True)
        else:
            centroids = feats.new_zeros(memory.centroids.shape)
            labels = torch.zeros(len(feats), dtype=torch.long,
                                 device=feats.device)
        broadcast(centroids, 0)
        broadcast(labels, 0)
        memory.fill(feats, labels, centroids)
        memory.dissolve_small_clusters()
        runner.logger.info(f'InterCLRMemoryHook: memory filled, clusters '
                           f'{memory.cluster_stats()}')

    def before_train_epoch(self, runner) -> None:
        model = self._model(runner)
        if self.offline_interval and runner.epoch > 0 and \
                runner.epoch % self.offline_interval == 0:
            runner.logger.info(f'InterCLRMemoryHook: offline re-clustering '
                               f'before epoch {runner.epoch + 1}')
            self.build(runner, model)
        self._epoch_labels = model.memory.labels.clone()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval):
            stats = self._model(runner).memory.cluster_stats()
            for key, value in stats.items():
                runner.message_hub.update_scalar(f'train/clusters_{key}',
                                                 value)

    def after_train_epoch(self, runner) -> None:
        labels = self._model(runner).memory.labels
        if self._epoch_labels is not None:
            changed = float((labels != self._epoch_labels).float().mean())
            runner.logger.info(
                f'InterCLRMemoryHook: epoch {runner.epoch}: '
                f'{changed:.2%} of the labels changed; clusters '
                f'{self._model(runner).memory.cluster_stats()}')
