"""``python -m training.push_to_hub RUN_OR_MODEL_DIR ORG/NAME [--private]``: the Hub upload
command under its documented name; the code is :mod:`training.hub`."""

from .hub import main

if __name__ == "__main__":
    main()
