"""Prints every __pycache__ directory below runtime/python/fastforward, relative to it.

Meson's install_subdir excludes directories by path, not by pattern; tests that
import the package from the checkout leave byte-code caches that must not ship.
"""
import os

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "python", "fastforward")
for parent, subdirs, _ in sorted(os.walk(root)):
    for name in sorted(subdirs):
        if name == "__pycache__":
            print(os.path.relpath(os.path.join(parent, name), root))
