# The CPU quality protocol: each method and its base pre-trained on
# Fashion-MNIST with the same backbone, data, augmentations, optimizer and
# budget, 3 seeds each; weighted kNN top-1 (k=200, T=0.1) on the whole test
# split with the whole train split as the bank. A run takes at most about
# 6 minutes on 2 CPU cores.
#   python tools/benchmarks/quality.py run configs/benchmarks/quality/fashion-mnist_cpu.py
_bsim = 'configs/bsim/bsim-simclr_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py'
_simclr = 'configs/bsim/simclr_resnet18_1xb128-coslr-2e_fashion-mnist-cpu.py'
protocol = dict(
    name='fashion-mnist-cpu',
    title='Fashion-MNIST, CPU protocol: ResNet-18, 30,000 images, batch 128',
    dataset=dict(type='FashionMNIST', data_root='data/fashion_mnist'),
    knn=dict(k=200, temperature=0.1),
    seeds=[0, 1, 2],
    entries=[
        dict(name='simclr', method='SimCLR', budget='2 epochs',
             config=_simclr),
        # BSIM encodes 3 views instead of 2: SimCLR with 1.5x the epochs
        # takes about BSIM's wall time.
        dict(name='simclr-3e', method='SimCLR',
             budget="3 epochs = BSIM's time", config=_simclr,
             cfg_options={
                 'train_cfg.max_epochs': 3,
                 'param_scheduler.1.end': 3,
                 'param_scheduler.1.T_max': 3,
             }),
        dict(name='bsim-simclr', method='BSIM-SimCLR', budget='2 epochs',
             base=['simclr', 'simclr-3e'], config=_bsim),
    ])
