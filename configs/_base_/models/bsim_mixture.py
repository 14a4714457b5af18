# BSIM's default mixture, for a config's data_preprocessor (merged there with
# the data set's normalisation: `data_preprocessor = _base_.bsim_mixture`):
# mixup of view 1 with view 1 of the partner in the reversed batch,
# lam ~ Beta(1, 1) per batch.
bsim_mixture = dict(
    type='MixtureDataPreprocessor',
    mixer=dict(
        type='InstanceMixer',
        alpha=1.0,
        mode='mixup',
        pairing='reverse',
        lam_per='batch'),
    mix_views=(0, 0))
