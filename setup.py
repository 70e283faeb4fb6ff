"""Build script: cythonizes the hot-path core in src/sshcore.

Metadata lives in pyproject.toml; this file only declares the extensions.
"""
import glob
import os
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

compile_args = [] if sys.platform == "win32" else ["-O3", "-g0"]  # small wheels
link_args = []
libraries = [] if sys.platform == "win32" else ["dl"]
if sys.platform == "darwin":
    libraries = []

extensions = [
    Extension(
        "sshcore." + os.path.splitext(os.path.basename(path))[0],
        [path],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
        libraries=libraries,
    )
    for path in sorted(glob.glob(os.path.join("src", "sshcore", "*.pyx")))
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={
            "language_level": "3",
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
        annotate=bool(os.environ.get("SSHCORE_ANNOTATE")),
    ),
)
