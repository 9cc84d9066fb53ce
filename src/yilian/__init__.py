"""yilian (医联): a platform that runs a Chinese medical consortium."""

__version__ = "0.1.0"
