# The GPU quality protocol: every method and its base on the whole
# Fashion-MNIST train split (60,000 images) for 200 epochs, ResNet-18 with the
# CIFAR stem (3x3 conv, no max-pool: 28 px images keep 28x28 maps in res2 and
# 4x4 in res5) at full width, batch 512 on one GPU, 3 seeds; weighted kNN
# top-1 (k=200, T=0.1), whole train split as the bank, whole test split as
# the queries, and a kNN curve every 10 epochs. The same entries and
# recipes as the CPU protocol (augmentations, heads, momenta, queue of
# 4,096, SplitBN in the MoCo family), the learning rates scaled linearly from
# batch 128 to 512. Equal-epoch comparisons only: equal-time rows need the
# GPU step times first (tools/benchmarks/step_time.py --device cuda).
# Ready to run, not run yet (no GPU has been lent to this project's tasks):
#   python tools/benchmarks/quality.py run configs/benchmarks/quality/fashion-mnist_gpu.py
# SePP's pairs come from this protocol's own MoCo v2 seed-0 checkpoint (1
# neighbour per image): `run` mines them before the first SePP run when the
# pairs file is missing (quality_tool/pairs.py).
_recipe = 'configs/bsim/{}_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py'
_pairs = 'work_dirs/sepp/fashion-mnist-60k_k1_gpu-mocov2.npz'
_epochs = 200
# Each base's CPU learning rate at batch 128 (the per-base sweep of
# 2026-12-02) times 512 / 128.
_lr = dict(simclr=0.2, mocov2=0.8, simsiam=0.8, byol=0.4)


def _gpu(lr, dataset='train_dataloader.dataset', **extra):
    options = {
        'model.backbone.type': 'ResNet_CIFAR',
        'model.backbone.base_channels': 64,
        'train_dataloader.batch_size': 512,
        'train_dataloader.num_workers': 8,
        'train_dataloader.persistent_workers': True,
        f'{dataset}.indices': None,
        'optim_wrapper.optimizer.lr': lr,
        'train_cfg.max_epochs': _epochs,
        'param_scheduler.1.end': _epochs,
        'param_scheduler.1.T_max': _epochs,
        # One checkpoint a run, every 10 epochs (resumable).
        'default_hooks.checkpoint.interval': 10,
    }
    options.update(extra)
    return options


def _entry(name, method, config, base=None, pairs=None, **extra):
    family = base or name
    entry = dict(name=name, method=method, budget=f'{_epochs} epochs',
                 config=config, base=base,
                 cfg_options=_gpu(_lr[family], **extra))
    if pairs:
        entry['pairs'] = pairs
    return entry


protocol = dict(
    name='fashion-mnist-gpu',
    title=('Fashion-MNIST, GPU protocol: CIFAR-stem ResNet-18, 60,000 '
           'images, 200 epochs, batch 512'),
    dataset=dict(type='FashionMNIST', data_root='data/fashion_mnist'),
    knn=dict(k=200, temperature=0.1),
    curve=dict(interval=10, bank=10000, queries=2000),
    # Beside the kNN: a linear probe on the same frozen features (whole
    # train split -> test split; linear_probe.py's classifier).
    linear=dict(weight_decay=1e-4, max_iter=300),
    seeds=[0, 1, 2],
    entries=[
        _entry('simclr', 'SimCLR', _recipe.format('simclr')),
        _entry('bsim-simclr', 'BSIM-SimCLR', _recipe.format('bsim-simclr'),
               base='simclr'),
        _entry('mocov2', 'MoCo v2', _recipe.format('mocov2')),
        _entry('bsim-mocov2', 'BSIM-MoCo v2', _recipe.format('bsim-mocov2'),
               base='mocov2'),
        _entry('sane', 'SANE',
               'configs/sane/sane_resnet18_1xb128-coslr-2e_fashion-mnist-'
               'cpu.py', base='mocov2'),
        _entry('interclr-mocov2', 'InterCLR (MoCo v2)',
               'configs/interclr/interclr-mocov2_resnet18_1xb128-coslr-2e_'
               'fashion-mnist-cpu.py', base='mocov2',
               **{'model.memory.length': 60000,
                  'model.memory.num_clusters': 400}),
        _entry('sepp-mocov2', 'SePP-MoCo v2',
               'configs/sepp/sepp-mocov2_resnet18_1xb128-coslr-2e_fashion-'
               'mnist-cpu.py', base='mocov2',
               dataset='train_dataloader.dataset.dataset',
               pairs=dict(entry='mocov2', seed=0, k=1),
               **{'train_dataloader.dataset.pairs_file': _pairs}),
        _entry('simsiam', 'SimSiam', _recipe.format('simsiam')),
        _entry('bsim-simsiam', 'BSIM-SimSiam',
               _recipe.format('bsim-simsiam'), base='simsiam'),
        _entry('sepp-simsiam', 'SePP-SimSiam',
               'configs/sepp/sepp-simsiam_resnet18_1xb128-coslr-2e_fashion-'
               'mnist-cpu.py', base='simsiam',
               dataset='train_dataloader.dataset.dataset',
               pairs=dict(entry='mocov2', seed=0, k=1),
               **{'train_dataloader.dataset.pairs_file': _pairs}),
        _entry('byol', 'BYOL', _recipe.format('byol')),
        _entry('bsim-byol', 'BSIM-BYOL', _recipe.format('bsim-byol'),
               base='byol'),
    ])
