"""Silence exactly one warning in the plugin's tools.

mmengine and mmcv import ``pkg_resources`` lazily (when a config names
``mmpretrain::`` bases or custom imports), and setuptools 80.9.0, which they
need, warns that it is deprecated: twice on every tool start. The tools
call :func:`silence_pkg_resources_warning` first; every other warning still
shows.
"""
import warnings

PKG_RESOURCES_MESSAGE = 'pkg_resources is deprecated as an API'


def silence_pkg_resources_warning() -> None:
    warnings.filterwarnings(
        'ignore', message=PKG_RESOURCES_MESSAGE, category=UserWarning)
