import math

import pytest

from bsim_plugin.utils import check_number


def test_accepts_numbers_in_range_as_float():
    assert check_number('X', 'a', 2, gt=0) == 2.0
    assert isinstance(check_number('X', 'a', 2, gt=0), float)
    assert check_number('X', 'a', 0, ge=0, lt=1) == 0.0
    assert check_number('X', 'a', -3.5) == -3.5


@pytest.mark.parametrize('value, bounds, message', [
    (0, dict(gt=0), 'X: a must be a finite number > 0, got a=0'),
    (-1, dict(ge=0), 'X: a must be a finite number >= 0, got a=-1'),
    (1.0, dict(ge=0, lt=1),
     'X: a must be a finite number >= 0 and < 1, got a=1.0'),
    (2, dict(le=1), 'X: a must be a finite number <= 1, got a=2'),
    (math.inf, {}, 'X: a must be a finite number, got a=inf'),
    (math.nan, dict(gt=0), 'got a=nan'),
    (True, {}, 'got a=True'),
    ('1', {}, "got a='1'"),
    (None, {}, 'got a=None'),
])
def test_refuses_with_the_value_named(value, bounds, message):
    with pytest.raises(ValueError) as info:
        check_number('X', 'a', value, **bounds)
    assert message in str(info.value)


def test_tools_silence_exactly_the_pkg_resources_warning():
    import warnings

    from bsim_plugin.apis import silence_pkg_resources_warning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        silence_pkg_resources_warning()
        warnings.warn('pkg_resources is deprecated as an API. See ...',
                      UserWarning)
        warnings.warn('something else', UserWarning)
        warnings.warn('pkg_resources is deprecated as an API',
                      DeprecationWarning)
    assert [str(w.message) for w in caught] == [
        'something else', 'pkg_resources is deprecated as an API'
    ]
