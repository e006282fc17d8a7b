__title__ = "transfer-cli"
__version__ = "0.1.0"
