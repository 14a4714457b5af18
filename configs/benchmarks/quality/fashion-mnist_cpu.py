# The CPU quality protocol: every method and its base pre-trained on
# Fashion-MNIST with the same backbone, data, augmentations, optimizer and
# budget, 3 seeds each; weighted kNN top-1 (k=200, T=0.1) on the whole test
# split with the whole train split as the bank.
#   python tools/benchmarks/quality.py run configs/benchmarks/quality/fashion-mnist_cpu.py
_bsim = 'configs/bsim/bsim-simclr_resnet18-cifar-w16_1xb128-coslr-4e_fashion-mnist-cpu.py'
_simclr = 'configs/bsim/simclr_resnet18-cifar-w16_1xb128-coslr-4e_fashion-mnist-cpu.py'
protocol = dict(
    name='fashion-mnist-cpu',
    title='Fashion-MNIST, CPU protocol (2 cores, about 6 min per run)',
    dataset=dict(type='FashionMNIST', data_root='data/fashion_mnist'),
    knn=dict(k=200, temperature=0.1),
    seeds=[0, 1, 2],
    entries=[
        dict(name='simclr', method='SimCLR', budget='equal epochs',
             config=_simclr),
        dict(name='bsim-simclr', method='BSIM-SimCLR', base='simclr',
             budget='equal epochs', config=_bsim),
    ])
