"""The shape of the algorithms: every one exported from bsim_plugin.models,
each a thin subclass of one mmpretrain algorithm with at most three
in-house mixins in its MRO."""
import bsim_plugin.models as models

ALGORITHMS = ('BSIMSimCLR', 'BSIMMoCo', 'BSIMBYOL', 'BSIMSimSiam', 'SANE',
              'InterCLRMoCo')


def test_every_algorithm_is_exported_with_at_most_three_mixins():
    for name in ALGORITHMS:
        cls = getattr(models, name)
        assert name in models.__all__
        in_house = [c for c in cls.__mro__[1:]
                    if c.__module__.startswith('bsim_plugin')]
        assert len(in_house) <= 3, (name, in_house)
        mmpretrain = [c for c in cls.__bases__
                      if c.__module__.startswith('mmpretrain')]
        assert len(mmpretrain) == 1, (name, cls.__bases__)
