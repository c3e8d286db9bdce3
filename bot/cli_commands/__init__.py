"""Sub-commands of `healthcode`. Each module has ``register(subparsers)``, which adds its
parser and sets ``handler(args, settings) -> exit code`` as a default."""
